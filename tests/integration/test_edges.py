"""The two local edges keep one contract (cloudsite.local.edge), shown on each the same way:
HAProxy, with its own health checks and runtime API, and nginx, which has neither, so
cloudsite checks /healthz itself and changes targets by a graceful reload.

Targets are small HTTP servers on loopback whose /healthz can be made to fail and which
echo the headers the edge adds; the edge speaks plain HTTP here (test_local.py runs each
with TLS, in front of real containers)."""

import http.client
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudsite.local.edge import INTERVAL, RISE
from tests.conftest import require
from tests.support.edges import Edge, available, load_balancer
from tests.support.load import LoadGenerator
from tests.support.servers import serving

pytestmark = pytest.mark.network


@dataclass
class Target:
    name: str
    port: int
    healthy: threading.Event
    busy: threading.Event  # set while it holds a slow request
    checks: list[str]  # the Host header of every health check it got


def target(stack: ExitStack, name: str) -> Target:
    healthy = threading.Event()
    healthy.set()
    busy = threading.Event()
    checks: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/healthz":
                checks.append(self.headers.get("Host", ""))
                status = 200 if healthy.is_set() else 503
            else:
                status = 200
            if self.path == "/slow":
                busy.set()
                time.sleep(1.5)
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
    return Target(name, server.server_port, healthy, busy, checks)


@pytest.fixture(params=["haproxy", "nginx"])
def edge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Edge]:
    require(available(request.param), f"{request.param} (Debian's {request.param})")
    with load_balancer(tmp_path, kind=request.param, deregistration_delay=5) as balancer:
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
    requests = [threading.Thread(target=lambda: slow.update(a=get(edge, "/slow")))]
    requests[0].start()
    time.sleep(0.3)  # in flight, on a or on b
    first, second = targets
    holder, other = ("a", "b") if first.busy.is_set() else ("b", "a")
    assert (first if holder == "a" else second).busy.is_set()
    drained = edge.block(holder)
    requests[0].join()
    assert slow["a"][0] == 200 and slow["a"][1].startswith(holder)
    assert drained >= 0.9  # block waited for the request it held (1.5 s, 0.3 s in)
    assert answered_by(edge) == {other}
    assert edge.stat(holder)["status"] == "MAINT"
    edge.deregister(holder)
    assert sorted(edge.stats()) == [other]


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
