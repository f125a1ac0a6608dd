"""The local edges in the ALB's place for the tests (cloudsite.local.edge): HAProxy or nginx,
plain HTTP on a free loopback port, for the test's duration."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from cloudsite.local.edge import Edge, installed
from cloudsite.local.haproxy import HAProxy, config
from cloudsite.local.nginx import Nginx
from tests.support.servers import free_port, running

__all__ = ["Edge", "available", "load_balancer"]


def available(kind: str) -> bool:
    return kind in installed()


@contextlib.contextmanager
def load_balancer(
    tmp: Path, *, kind: str = "haproxy", deregistration_delay: float = 5.0
) -> Iterator[Edge]:
    port = free_port()
    if kind == "nginx":
        edge = Nginx(folder=tmp / "nginx", port=port, deregistration_delay=deregistration_delay)
        edge.start()
        try:
            yield edge
        finally:
            edge.stop()
        return
    sock = tmp / "haproxy.sock"
    (tmp / "haproxy.cfg").write_text(config(socket=sock, port=port))
    argv = ["haproxy", "-db", "-f", str(tmp / "haproxy.cfg")]
    with running(argv, port=port, log=tmp / "haproxy.log"):
        yield HAProxy(port=port, socket=sock, deregistration_delay=deregistration_delay)
