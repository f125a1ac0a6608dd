"""Fixtures for the CLI's tests: a clean environment, a project folder, the CLI in-process,
a loopback server that records every request sent to it, and an HTTPS site on loopback
reachable under a load balancer's name."""

import http.server
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cloudsite.aws.selfsigned import KeyPair
from cloudsite.cli import cli
from tests.support.corpus import startproject
from tests.support.servers import serving

# Dummy credentials: enough for the CLI to sign requests to a loopback endpoint.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
HOST = "wanderpage-alb-1234567890.us-east-1.elb.amazonaws.com"


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
    """A Django project (startproject's) with a minimal cloudsite.toml; the test runs from
    inside it."""
    root = startproject(tmp_path / "wanderpage", stable=True)
    (root / "cloudsite.toml").write_text('name = "wanderpage"\nregion = "us-east-1"\n')
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

    @property
    def env(self) -> dict[str, str]:
        """The CLI's environment for calling AWS here, with (dummy) credentials."""
        return {"AWS_ENDPOINT_URL": self.url, **CREDENTIALS}


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

    with serving(Handler) as server:
        yield Recorder(
            url=f"http://127.0.0.1:{server.server_port}", requests=seen, authorizations=auth
        )


@contextmanager
def https_site(pair: KeyPair, tmp_path: Path, *, ready: int = 200) -> Iterator[str]:
    """An HTTPS server on loopback presenting `pair`, reachable as HOST."""
    (tmp_path / "cert.pem").write_bytes(pair.certificate_pem)
    (tmp_path / "key.pem").write_bytes(pair.private_key_pem)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = ready if self.path == "/readyz" else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    with serving(Handler, wrap=lambda sock: context.wrap_socket(sock, server_side=True)) as server:
        yield f"https://{HOST}:{server.server_port}"


@pytest.fixture
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """HOST resolves to 127.0.0.1; TLS still checks the certificate against the name HOST."""
    real = socket.getaddrinfo

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == HOST else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


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
