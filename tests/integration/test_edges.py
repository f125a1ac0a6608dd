"""The two local edges keep one contract (cloudsite.local.edge), shown on each the same way:
HAProxy, with its own health checks and runtime API, and nginx, which has neither, so
cloudsite checks /healthz itself and changes targets by a graceful reload.

Targets are small HTTP servers on loopback whose /healthz can be made to fail and which
echo the headers the edge adds; the edge speaks plain HTTP here (test_local.py runs each
with TLS, in front of real containers)."""

import http.client
import http.server
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudsite.errors import OperationError
from cloudsite.local.edge import INTERVAL, RISE, alive
from cloudsite.local.haproxy import HAProxy
from cloudsite.local.nginx import Nginx
from cloudsite.local.tls import edge_certificate
from tests.conftest import require
from tests.support.edges import Edge, available, load_balancer
from tests.support.load import LoadGenerator
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.network


@dataclass
class Target:
    name: str
    port: int
    healthy: threading.Event
    busy: threading.Event  # set while it holds a slow request
    checks: list[str]  # the Host header of every health check it got
    fail: list[int]  # [n]: fail the next n health checks, then pass again

    def holding(self, timeout: float = 5) -> bool:
        """Whether a slow request reaches it within `timeout` seconds."""
        return self.busy.wait(timeout)


def target(stack: ExitStack, name: str) -> Target:
    healthy = threading.Event()
    healthy.set()
    busy = threading.Event()
    checks: list[str] = []
    fail = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status = 200
            if self.path == "/healthz":
                checks.append(self.headers.get("Host", ""))
                status = 200 if healthy.is_set() and fail[0] <= 0 else 503
                fail[0] -= 1
            if self.path.startswith("/sleep/"):
                busy.set()
                time.sleep(float(self.path.rsplit("/", 1)[1]))
                busy.clear()
            headers = ("Host", "X-Forwarded-Proto", "X-Forwarded-For")
            body = "\n".join([name, *(f"{h}: {self.headers.get(h)}" for h in headers)]).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = stack.enter_context(serving(Handler))
    return Target(name, server.server_port, healthy, busy, checks, fail)


@pytest.fixture(params=["haproxy", "nginx"])
def kind(request: pytest.FixtureRequest) -> str:
    require(available(request.param), f"{request.param} (Debian's {request.param})")
    return str(request.param)


@pytest.fixture
def edge(kind: str, tmp_path: Path) -> Iterator[Edge]:
    with load_balancer(tmp_path, kind=kind, deregistration_delay=5) as balancer:
        yield balancer


@pytest.fixture
def targets() -> Iterator[tuple[Target, Target]]:
    with ExitStack() as stack:
        yield target(stack, "a"), target(stack, "b")


def get(edge: Edge, path: str = "/") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "www.example.test"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def answered_by(edge: Edge, count: int = 6) -> set[str]:
    return {get(edge)[1].split("\n")[0] for _ in range(count)}


def test_a_registered_target_takes_no_traffic_until_it_passes_two_health_checks(
    edge: Edge, targets: tuple[Target, Target]
) -> None:
    a, _ = targets
    edge.register("a", port=a.port)
    assert get(edge)[0] == 503  # no target in service: the ALB's answer too
    assert edge.serving() == []
    seconds = edge.allow("a")
    assert seconds >= (RISE - 1) * INTERVAL * 0.9  # it starts unhealthy, as the ALB starts it
    assert edge.serving() == ["a"]
    assert a.checks and set(a.checks) == {"127.0.0.1"}  # the target's address as Host
    status, body = get(edge)
    assert status == 200
    assert body.split("\n")[1:] == [
        "Host: www.example.test",  # the client's Host reaches the site unchanged
        "X-Forwarded-Proto: https",
        "X-Forwarded-For: 127.0.0.1",
    ]


def test_traffic_is_shared_and_a_blocked_target_finishes_its_requests_first(
    edge: Edge, targets: tuple[Target, Target]
) -> None:
    for t in targets:
        edge.register(t.name, port=t.port)
        edge.allow(t.name)
    assert answered_by(edge) == {"a", "b"}
    slow: dict[str, tuple[int, str]] = {}
    request = threading.Thread(target=lambda: slow.update(a=get(edge, "/sleep/1.5")))
    request.start()
    first, second = targets
    started = time.monotonic()
    while not (first.busy.is_set() or second.busy.is_set()):  # in flight, on a or on b
        assert time.monotonic() - started < 5, "the slow request reached neither target"
        time.sleep(0.01)
    holder, other = ("a", "b") if first.busy.is_set() else ("b", "a")
    drained = edge.block(holder)
    waited = time.monotonic() - started
    request.join()
    assert slow["a"][0] == 200 and slow["a"][1].startswith(holder)
    assert waited >= 1.3 and drained >= 1.0  # block waited for the request it held (1.5 s)
    assert answered_by(edge) == {other}
    assert edge.stat(holder)["status"] == "MAINT"
    edge.deregister(holder)
    assert sorted(edge.stats()) == [other]


def test_a_change_for_one_target_cuts_no_long_request_on_another(
    kind: str, tmp_path: Path, targets: tuple[Target, Target]
) -> None:
    """A request that outlasts the deregistration delay, on a target that stays in service,
    while the other target is blocked and allowed again (for nginx: two reloads)."""
    with load_balancer(tmp_path, kind=kind, deregistration_delay=1) as edge:
        for t in targets:
            edge.register(t.name, port=t.port)
            edge.allow(t.name)
        long: dict[str, tuple[int, str]] = {}
        request = threading.Thread(target=lambda: long.update(a=get(edge, "/sleep/4")))
        request.start()
        first, second = targets
        assert first.holding() or second.holding()
        other = "b" if first.busy.is_set() else "a"
        started = time.monotonic()
        edge.block(other)
        assert time.monotonic() - started < 2.5  # the delay bounds it, not the long request
        edge.allow(other)
        request.join()
    assert long["a"][0] == 200 and not long["a"][1].startswith(other)


def test_one_failed_check_does_not_take_a_target_out(
    edge: Edge, targets: tuple[Target, Target]
) -> None:
    a, _ = targets
    edge.register("a", port=a.port)
    edge.allow("a")
    a.fail[0] = 1
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # HAProxy says "UP 1/2" for a moment: still in service
        assert edge.stat("a")["status"].startswith("UP")
        time.sleep(0.1)
    assert a.fail[0] < 0  # the failing check was made, and later ones passed
    assert edge.serving() == ["a"]


def test_tls_and_the_redirect_from_a_folder_with_a_space_a_dollar_and_a_quote(
    kind: str, tmp_path: Path, targets: tuple[Target, Target]
) -> None:
    """The edge as `cloudsite local` starts it (TLS, the redirect, a daemon with a pid file),
    from a project folder whose path a configuration file could misread."""
    folder = tmp_path / "My $HOME it's"
    served, ca = edge_certificate(folder / "tls", project="awkward")
    port, http_port = free_port(), free_port()
    balancer: HAProxy | Nginx
    if kind == "nginx":
        balancer = Nginx(folder=folder / "nginx", port=port, http_port=http_port, pem=str(served))
    else:
        sock = tmp_path / "sock" / "haproxy.sock"
        balancer = HAProxy(port, sock, 5, folder=folder, http_port=http_port, pem=served)
    balancer.start()
    try:
        assert balancer.running()
        balancer.register("a", port=targets[0].port)
        balancer.allow("a")
        context = ssl.create_default_context(cafile=str(ca))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=context) as answer:
            assert answer.status == 200 and answer.read().decode().startswith("a")
        redirect = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
        redirect.request("GET", "/x?y=1", headers={"Host": "127.0.0.1"})
        moved = redirect.getresponse()
        assert (moved.status, moved.getheader("Location")) == (
            301,
            f"https://127.0.0.1:{port}/x?y=1",
        )
    finally:
        pid = balancer.pid()
        balancer.stop()
    assert pid and not alive(pid)


def test_an_nginx_that_cannot_start_says_why_in_one_line(tmp_path: Path) -> None:
    require(available("nginx"), "nginx (Debian's nginx)")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OperationError) as failed:
            Nginx(folder=tmp_path / "nginx", port=port).start()
    assert failed.value.why.startswith(f"nginx: bind() to 127.0.0.1:{port} failed")


def test_allow_gives_up_on_a_target_that_stays_unhealthy(
    edge: Edge, targets: tuple[Target, Target]
) -> None:
    a, _ = targets
    a.healthy.clear()
    edge.register("a", port=a.port)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="a did not become healthy within 2 s"):
        edge.allow("a", timeout=2)
    assert 2 <= time.monotonic() - started < 6
    assert get(edge)[0] == 503
    assert edge.serving() == []


def test_a_target_that_fails_its_checks_in_service_is_reported_down(
    edge: Edge, targets: tuple[Target, Target]
) -> None:
    a, _ = targets
    edge.register("a", port=a.port)
    edge.allow("a")
    a.healthy.clear()
    deadline = time.monotonic() + 5
    while edge.stat("a")["status"] != "DOWN":
        assert time.monotonic() < deadline, edge.stat("a")
        time.sleep(0.1)
    assert edge.serving() == []


def test_blocking_and_allowing_under_load_fails_no_request(
    edge: Edge, targets: tuple[Target, Target], figures: list[str]
) -> None:
    """A rollout's traffic steps, many times over, while keep-alive clients keep asking:
    for nginx each is a reload, which must not fail a request on a kept connection."""
    for t in targets:
        edge.register(t.name, port=t.port)
        edge.allow(t.name)
    with LoadGenerator(port=edge.port, host="www.example.test", marker=False) as load:
        for _ in range(4):
            for t in targets:
                edge.block(t.name)
                edge.allow(t.name)
    kind = type(edge).__name__
    figures.append(f"edge block/allow x8 under load ({kind}): {load.report.summary()}")
    assert load.report.failures == 0, load.report.failure_samples
    assert load.report.requests > 100
