"""HAProxy in the ALB's place for the tests (cloudsite.local.edge): plain HTTP on a free
loopback port, run in the foreground for the test's duration."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from cloudsite.local.edge import BACKEND, LoadBalancer, config, haproxy_available
from tests.support.servers import free_port, running

__all__ = ["BACKEND", "LoadBalancer", "haproxy_available", "load_balancer"]


@contextlib.contextmanager
def load_balancer(tmp: Path, *, deregistration_delay: float = 5.0) -> Iterator[LoadBalancer]:
    port = free_port()
    sock = tmp / "haproxy.sock"
    (tmp / "haproxy.cfg").write_text(config(socket=sock, port=port))
    argv = ["haproxy", "-db", "-f", str(tmp / "haproxy.cfg")]
    with running(argv, port=port, log=tmp / "haproxy.log"):
        yield LoadBalancer(port=port, socket=sock, deregistration_delay=deregistration_delay)
