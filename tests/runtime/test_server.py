"""gunicorn with the runtime layer's config (cloudsite.runtime.gunicorn_conf), serving the
reference site for real through the layer: health probes as a load balancer sends them, the
JSON log on stdout (an unknown Host a single warning), the worker count, and a graceful SIGTERM
that finishes the request in flight."""

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.site.served import Served, get, gunicorn_site

pytestmark = pytest.mark.network
# What the ALB sends for a browser's HTTPS request: the site's name and the forwarded scheme.
THROUGH_THE_LOAD_BALANCER = {"Host": "www.example.com", "X-Forwarded-Proto": "https"}


def eventually(check: Callable[[], bool], *, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def workers(master: int) -> int:
    """How many processes have the gunicorn master as their parent."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces; the parent pid follows its ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process exited while we looked
        count += int(fields[1]) == master
    return count


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("gunicorn")
    with gunicorn_site(workdir, static_root=production_static) as served:
        yield served


def test_healthz_answers_200_over_plain_http_for_an_ip_address_host(site: Served) -> None:
    status, headers, body = get(site.port, "/healthz", {"Host": "10.0.3.7"})
    assert (status, body) == (200, b"ok\n")
    assert headers["Cache-Control"] == "no-store"
    # The same request for a page is refused, so the probe's exemption is real:
    status, _, _ = get(site.port, "/", {"Host": "10.0.3.7"})
    assert status == 400
    status, headers, _ = get(site.port, "/about/", {"Host": "www.example.com"})
    assert status == 301
    assert headers["Location"] == "https://www.example.com/about/"


def test_readyz_answers_200_with_the_database_up(site: Served) -> None:
    status, _, body = get(site.port, "/readyz", {"Host": "10.0.3.7:8000"})
    assert (status, body) == (200, b"ok\n")


def test_stdout_is_one_json_object_per_line_with_the_request_fields(site: Served) -> None:
    forwarded = {**THROUGH_THE_LOAD_BALANCER, "X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
    status, headers, body = get(site.port, "/destinations/kyoto/", forwarded)
    assert status == 200
    assert b"Fushimi Inari" in body
    request_id = headers["X-Request-ID"]

    def logged() -> list[dict]:
        return [e for e in map(json.loads, site.log_lines()) if e.get("request_id") == request_id]

    assert eventually(lambda: bool(logged()))
    [entry] = logged()
    assert entry["method"] == "GET"
    assert entry["path"] == "/destinations/kyoto/"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float)
    assert entry["remote_addr"] == "203.0.113.7"  # the address the load balancer appended
    # Every line, gunicorn's own included, is a JSON object (json.loads raises otherwise).
    lines = site.log_lines()
    assert any(json.loads(line)["logger"] == "gunicorn.error" for line in lines)
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_an_unknown_host_is_refused_and_logged_as_one_warning_line(site: Served) -> None:
    status, headers, body = get(site.port, "/", {"Host": "scanner.example"})
    assert status == 400
    assert b"scanner.example" not in body
    request_id = headers["X-Request-ID"]

    def warnings() -> list[dict]:
        lines = map(json.loads, site.log_lines())
        return [e for e in lines if e["logger"] == "django.security.DisallowedHost"]

    assert eventually(lambda: any("scanner.example" in e["message"] for e in warnings()))
    [warning] = [e for e in warnings() if "scanner.example" in e["message"]]
    assert warning["level"] == "WARNING"
    assert "exception" not in warning
    [request] = [e for e in map(json.loads, site.log_lines()) if e.get("request_id") == request_id]
    assert request["status"] == 400


def test_workers_follow_the_cpu_count_by_default(site: Served) -> None:
    expected = os.cpu_count() or 1  # one sync worker per CPU (docs/benchmarks.md)
    assert eventually(lambda: workers(site.proc.pid) == expected), workers(site.proc.pid)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def test_sigterm_finishes_the_request_in_flight_then_exits_cleanly(
    tmp_path: Path, production_static: Path
) -> None:
    started = tmp_path / "slow-started"
    served = gunicorn_site(
        tmp_path,
        static_root=production_static,
        application="tests.runtime.slow_wsgi:application",
        WEB_CONCURRENCY="1",
        SLOW_STARTED=str(started),
        SLOW_SECONDS="4",
    )
    with served as site:
        assert eventually(lambda: workers(site.proc.pid) == 1)  # WEB_CONCURRENCY overrides
        result: dict[str, object] = {}

        def slow_request() -> None:
            status, headers, body = get(site.port, "/slow", THROUGH_THE_LOAD_BALANCER)
            result.update(status=status, headers=headers, body=body, answered=time.monotonic())

        client = threading.Thread(target=slow_request)
        client.start()
        assert eventually(started.exists), "the slow request never reached the application"
        os.kill(site.proc.pid, signal.SIGTERM)
        signalled = time.monotonic()
        client.join(timeout=30)
        assert result["status"] == 200
        assert b"read only one page" in result["body"]  # type: ignore[operator]
        assert result["headers"]["X-Request-ID"]  # type: ignore[index]  # the front served it
        # The answer came seconds after the signal: the worker finished it, nobody cut it off.
        assert result["answered"] - signalled > 2  # type: ignore[operator]
        assert site.proc.wait(timeout=30) == 0
        assert _refused(site.port)
    messages = [json.loads(line)["message"] for line in site.log_lines()]
    assert "Handling signal: term" in messages


def test_no_control_socket_is_opened(site: Served) -> None:
    # gunicorn's control socket can resize or stop the server; the config turns it off.
    assert not [line for line in site.log_lines() if "Control socket" in line]
