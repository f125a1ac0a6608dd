"""HAProxy in the ALB's place: health checks on /healthz, draining, and the two traffic steps
CodeDeploy drives (BlockTraffic, AllowTraffic), through HAProxy's runtime API.

Like the ALB it forwards X-Forwarded-Proto: https (TLS ends at the load balancer) and
X-Forwarded-For. Targets are added at run time (`add server`), so an instance can join a
running rollout. Health checks run every 0.5 s (the ALB's 10 s, scaled down for tests), with
the template's thresholds: healthy after 2 passes, unhealthy after 2 failures.
"""

import contextlib
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, running

BACKEND = "app"
CHECK = "check inter 500ms fall 2 rise 2"

_CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    stats timeout 30s
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    # The ALB does not retry a request on another target; neither does this.
    retries 0
frontend web
    bind 127.0.0.1:{port}
    default_backend {backend}
backend {backend}
    balance roundrobin
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    option httpchk GET /healthz
    http-check expect status 200
"""


def haproxy_available() -> bool:
    return shutil.which("haproxy") is not None


@dataclass(frozen=True)
class LoadBalancer:
    port: int
    socket: Path
    deregistration_delay: float  # seconds BlockTraffic waits at most for in-flight requests

    def command(self, line: str) -> str:
        """One runtime API command; returns HAProxy's answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def register(self, name: str, *, port: int) -> None:
        """Add a target, in maintenance: it takes no traffic until allow()."""
        answer = self.command(f"add server {BACKEND}/{name} 127.0.0.1:{port} {CHECK}")
        if "New server registered" not in answer:
            raise RuntimeError(f"haproxy: add server {name}: {answer.strip()}")
        self.command(f"enable health {BACKEND}/{name}")

    def block(self, name: str) -> float:
        """BlockTraffic: no new requests, wait for the in-flight ones (up to the delay)."""
        started = time.monotonic()
        self.command(f"set server {BACKEND}/{name} state drain")
        while self.stat(name)["scur"] != "0":
            if time.monotonic() - started > self.deregistration_delay:
                break
            time.sleep(0.05)
        self.command(f"set server {BACKEND}/{name} state maint")
        return time.monotonic() - started

    def deregister(self, name: str) -> None:
        """Remove a target (already drained by block()) from the load balancer altogether."""
        self.command(f"set server {BACKEND}/{name} state maint")
        answer = self.command(f"del server {BACKEND}/{name}")
        if "Server deleted" not in answer:
            raise RuntimeError(f"haproxy: del server {name}: {answer.strip()}")

    def allow(self, name: str, *, timeout: float = 30) -> float:
        """AllowTraffic: register again and wait until health checks report the target UP.

        HAProxy would put a target leaving maintenance straight back UP; the ALB starts it
        unhealthy until `rise` checks pass. Marking it down (from drain) before `ready` does that.
        """
        started = time.monotonic()
        server = f"{BACKEND}/{name}"
        for step in ("state drain", "health down", "state ready"):
            self.command(f"set server {server} {step}")
        while self.stat(name)["status"] != "UP":
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"haproxy: {name} did not become healthy within {timeout} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def stats(self) -> dict[str, dict[str, str]]:
        """The backend's targets, by name: HAProxy's `show stat` columns (status, scur, ...)."""
        lines = [line for line in self.command("show stat").splitlines() if line]
        header = lines[0].lstrip("# ").split(",")
        rows = (dict(zip(header, line.split(","), strict=False)) for line in lines[1:])
        return {
            row["svname"]: row
            for row in rows
            if row.get("pxname") == BACKEND and row["svname"] not in ("BACKEND", "FRONTEND")
        }

    def stat(self, name: str) -> dict[str, str]:
        return self.stats()[name]

    def serving(self) -> list[str]:
        """Targets that are UP and take traffic."""
        return sorted(name for name, row in self.stats().items() if row["status"] == "UP")


@contextlib.contextmanager
def load_balancer(tmp: Path, *, deregistration_delay: float = 5.0) -> Iterator[LoadBalancer]:
    port = free_port()
    sock = tmp / "haproxy.sock"
    config = tmp / "haproxy.cfg"
    config.write_text(_CONFIG.format(socket=sock, port=port, backend=BACKEND))
    argv = ["haproxy", "-db", "-f", str(config)]
    with running(argv, port=port, log=tmp / "haproxy.log"):
        yield LoadBalancer(port=port, socket=sock, deregistration_delay=deregistration_delay)
