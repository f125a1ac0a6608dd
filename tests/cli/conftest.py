"""Fixtures for the CLI's tests: a clean environment, a project folder, the CLI in-process,
and a loopback server that records every request sent to it."""

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cloudsite.cli import cli


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS or CLOUDSITE variable of the developer's leaks into a test."""
    import os

    for var in list(os.environ):
        if var.startswith(("AWS_", "CLOUDSITE_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSITE_POLL_SECONDS", "0.05")
    return monkeypatch


@pytest.fixture
def project(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Path:
    """A project folder with a minimal cloudsite.toml and a few files to ship; the test runs
    from inside it."""
    root = tmp_path / "wanderpage"
    root.mkdir()
    (root / "cloudsite.toml").write_text('name = "wanderpage"\nregion = "us-east-1"\n')
    (root / "site").mkdir()
    (root / "site" / "manage.py").write_text("print('hello')\n")
    clean_env.chdir(root)
    return root


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in this process (the AWS calls still go over real HTTP)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@dataclass
class Recorder:
    """A loopback HTTP server that records each request and answers 500."""

    url: str
    requests: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    seen: list[str] = []
    auth: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            auth.append(self.headers.get("Authorization", ""))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Recorder(
            url=f"http://127.0.0.1:{server.server_address[1]}", requests=seen, authorizations=auth
        )
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server on loopback for the CLI's emulator tests (reset before each test)."""
    from tests.cli.emulator import emulator

    with emulator() as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str, clean_env: pytest.MonkeyPatch) -> str:
    """A fresh emulated account: moto reset, the environment pointing boto3 at it."""
    import urllib.request

    from tests.support.moto import aws_env

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    for key, value in aws_env(moto_endpoint).items():
        clean_env.setenv(key, value)
    return moto_endpoint
