"""`cloudsite local`, run as a user runs it, on a project this repository did not write (a
startproject) and on the reference site (with PostgreSQL in a container):

    local up      prints an https://127.0.0.1:PORT URL that serves the project, behind HAProxy
                  with TLS, two instances deployed through the hooks
    verify        passes its checks against that URL (AWS ones: not applicable locally)
    local deploy  a changed release switches instances one at a time, no request fails
    a release that fails ValidateService is rolled back, and the site keeps serving
    local down    removes everything, and nothing is left
"""

import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require
from tests.support.corpus import startproject
from tests.support.engine import Engine
from tests.support.haproxy import haproxy_available
from tests.support.servers import ROOT

pytestmark = [pytest.mark.engine, pytest.mark.network]
CLOUDSITE = str(ROOT / ".venv" / "bin" / "cloudsite")
MARKER = "static/cstest-release.txt"


@dataclass
class Rehearsal:
    root: Path
    env: dict[str, str]
    url: str = ""

    def cli(self, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLOUDSITE, *args], cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    @property
    def ca(self) -> Path:
        return self.root / ".cloudsite" / "local" / "tls" / "ca.pem"

    def get(self, path: str) -> tuple[int, bytes]:
        context = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10, context=context) as r:  # fmt: skip
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def release(self, name: str) -> None:
        (self.root / MARKER).write_text(f"{name}\n")


def release_ready(root: Path) -> None:
    """The user's one edit to the generated project: a static folder with a release marker."""
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nSTATICFILES_DIRS = [BASE_DIR / "static"]\n')
    (root / "static").mkdir()


@pytest.fixture(scope="module")
def rehearsal(engine: Engine, build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:  # fmt: skip
    require(haproxy_available(), "HAProxy (Debian's haproxy)")
    root = startproject(tmp_path_factory.mktemp("local") / "mysite")
    release_ready(root)
    env = engine.script_env(**build_env)
    site = Rehearsal(root=root, env=env)
    site.release("v1")
    yield site
    site.cli("local", "down")


def test_local_up_prints_an_https_url_that_serves_the_project(rehearsal: Rehearsal, figures: list[str]) -> None:  # fmt: skip
    started = time.monotonic()
    result = rehearsal.cli("local", "up")
    figures.append(f"local up (startproject): {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr[-3000:]
    rehearsal.url = result.stdout.strip()
    assert rehearsal.url.startswith("https://127.0.0.1:") and rehearsal.url.endswith("/")
    status, page = rehearsal.get("/admin/login/")
    assert status == 200 and b"Django administration" in page
    assert rehearsal.get("/static/cstest-release.txt") == (200, b"v1\n")
    assert rehearsal.get("/")[0] == 404  # startproject's own / with DEBUG off
    state = json.loads((rehearsal.root / ".cloudsite" / "local" / "state.json").read_text())
    assert [i["revision"] for i in state["instances"]] == [state["releases"][0]] * 2
    assert (rehearsal.root / ".cloudsite" / ".gitignore").read_text().endswith("local/\n")


def test_plain_http_is_redirected_to_https(rehearsal: Rehearsal) -> None:
    state = json.loads((rehearsal.root / ".cloudsite" / "local" / "state.json").read_text())
    request = urllib.request.Request(f"http://127.0.0.1:{state['http_port']}/admin/?q=1")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(request, timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"] == f"https://127.0.0.1:{state['port']}/admin/?q=1"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_verify_passes_against_the_local_edge(rehearsal: Rehearsal) -> None:
    state = json.loads((rehearsal.root / ".cloudsite" / "local" / "state.json").read_text())
    result = rehearsal.cli(
        "verify", rehearsal.url, "--ca-bundle", str(rehearsal.ca), "--http-port", str(state["http_port"]),  # fmt: skip
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not applicable locally" in result.stdout
    assert "fail" not in [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def test_local_status_shows_two_healthy_instances_and_their_release(rehearsal: Rehearsal) -> None:
    result = rehearsal.cli("local", "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["instances"]
    assert [(r["instance"], r["container"], r["edge"]) for r in rows] == [
        ("i1", "running", "UP"), ("i2", "running", "UP"),
    ]  # fmt: skip
