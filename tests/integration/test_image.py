"""The image of the reference site, built by build.py and run with the deploy hooks' flags."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.integration.conftest import SITE_HOST, Releases
from tests.support.engine import Engine
from tests.support.servers import free_port

pytestmark = pytest.mark.engine

HARDENED = (
    "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
)  # fmt: skip
SIZE_BUDGET = 150 * 1000 * 1000  # bytes, uncompressed (what `docker images` shows)


def http_get(url: str, *, host: str = "localhost", timeout: float = 3) -> tuple[int, bytes]:
    """GET as the load balancer forwards it (X-Forwarded-Proto: https)."""
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_healthy(port: int, *, timeout: float = 30) -> float:
    """Seconds until /healthz answers 200 on port."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if http_get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"/healthz did not answer on port {port} within {timeout} s")


@pytest.fixture
def site(engine: Engine, releases: Releases, figures: list[str]) -> Iterator[tuple[str, int]]:
    """The image running hardened on a loopback port: (container name, port)."""
    image = releases("v1").image
    port = free_port()
    name = engine.name(f"image-{port}")
    started = time.monotonic()
    engine.docker(
        "run", "--detach", "--name", name, *HARDENED, "--publish", f"127.0.0.1:{port}:8000",
        "-e", "DJANGO_SECRET_KEY=cstest-only-not-secret", "-e", f"DJANGO_ALLOWED_HOSTS={SITE_HOST}",
        image,
    )  # fmt: skip
    try:
        wait_healthy(port)
        figures.append(f"docker run to a healthy /healthz: {time.monotonic() - started:.2f} s")
        yield name, port
    finally:
        engine.docker("rm", "--force", name, check=False)


def test_image_serves_the_site_as_non_root_on_a_read_only_root(
    engine: Engine, site: tuple[str, int]
) -> None:
    name, port = site
    assert http_get(f"http://127.0.0.1:{port}/", host=SITE_HOST)[0] == 200
    assert http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200
    status, body = http_get(f"http://127.0.0.1:{port}/static/cstest-release.txt")
    assert (status, body) == (200, b"v1\n")  # collected at build time, served by whitenoise
    assert int(engine.docker("exec", name, "id", "-u").stdout) >= 10000
    denied = engine.docker("exec", name, "touch", "/app/written", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr
    config = json.loads(engine.docker("inspect", name).stdout)[0]
    assert config["HostConfig"]["ReadonlyRootfs"] is True


def test_gunicorn_runs_as_tini_s_child_and_stops_gracefully_on_sigterm(
    engine: Engine, site: tuple[str, int]
) -> None:
    name, _ = site
    assert engine.docker("exec", name, "cat", "/proc/1/comm").stdout.strip() == "tini"
    children = engine.docker("exec", name, "sh", "-c", "grep -l '^PPid:\t1$' /proc/[0-9]*/status")
    commands = {
        engine.docker("exec", name, "cat", path.replace("status", "comm")).stdout.strip()
        for path in children.stdout.split()
    }
    assert any(command.startswith("gunicorn") for command in commands), commands
    started = time.monotonic()
    engine.docker("stop", "--time", "20", name)
    assert time.monotonic() - started < 15, "gunicorn ignored SIGTERM until docker killed it"
    state = json.loads(engine.docker("inspect", name).stdout)[0]["State"]
    assert state["ExitCode"] == 0
    assert "Handling signal: term" in engine.docker("logs", name).stdout


def test_image_declares_a_healthcheck_on_healthz_that_fails_when_nothing_answers(
    engine: Engine, releases: Releases, site: tuple[str, int]
) -> None:
    name, _ = site
    image = releases("v1").image
    history = engine.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert "HEALTHCHECK" in history and "/opt/cloudsite/bin/healthcheck" in history
    assert (
        engine.docker("exec", name, "/opt/cloudsite/bin/healthcheck", check=False).returncode == 0
    )
    idle = engine.run_once("--entrypoint", "/opt/cloudsite/bin/healthcheck", image)
    assert idle.returncode != 0


def test_image_carries_no_secret_no_package_manager_and_no_pipeline_files(
    engine: Engine, releases: Releases
) -> None:
    image = releases("v1").image
    config = json.loads(engine.docker("image", "inspect", image).stdout)[0]["Config"]
    assert not [e for e in config["Env"] if e.startswith(("DJANGO_SECRET_KEY", "DATABASE_URL"))]
    assert "placeholder" not in json.dumps(config)
    listing = engine.run_once(
        "--entrypoint", "bash", image, "-c",
        "for t in apt-get apt perl pip pip3 useradd su mount; do command -v $t; done;"
        " ls /app /opt/cloudsite /opt/cloudsite/cloudsite/runtime;"
        " ls /opt/cloudsite/static/staticfiles.json /opt/cloudsite/var/seed.sqlite3",
    ).stdout  # fmt: skip
    assert "/usr/bin" not in listing, listing  # none of the tools is there
    pipeline = {"hooks", "Dockerfile", "buildspec.yml", "appspec.yml", "build.py", "deps.py"}
    assert not pipeline & set(listing.split()), listing
    assert "staticfiles.json" in listing and "seed.sqlite3" in listing


def test_image_is_within_the_size_budget(
    engine: Engine, releases: Releases, figures: list[str]
) -> None:
    size = int(
        engine.docker("image", "inspect", "--format", "{{.Size}}", releases("v1").image).stdout
    )
    figures.append(f"image size: {size / 1e6:.1f} MB (budget {SIZE_BUDGET / 1e6:.0f} MB)")
    assert size <= SIZE_BUDGET


def test_start_refuses_a_malformed_secret_record_without_echoing_it(
    engine: Engine, releases: Releases
) -> None:
    leaked = "not-a-record-cstest-value"
    result = engine.run_once(
        "--interactive",
        "-e",
        "CLOUDSITE_SECRETS=stdin",
        releases("v1").image,
        "manage",
        "check",
        input=f"DJANGO_SECRET_KEY=fine\0{leaked}\0\0",
    )
    assert result.returncode != 0
    assert "record 2 is not NAME=VALUE" in result.stderr
    assert leaked not in result.stdout + result.stderr
