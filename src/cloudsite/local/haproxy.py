"""HAProxy in the ALB's place: one of `cloudsite local`'s TLS edges (see edge.py for the
contract), and the tests' load balancer.

HAProxy health-checks each target itself and drives the two traffic steps CodeDeploy does,
BlockTraffic (drain) and AllowTraffic (healthy again), through its runtime API. Targets are
added at run time (`add server`), so an instance can join a running rollout.

    config(...)   the configuration: plain HTTP (the tests) or TLS with a redirect
    HAProxy       a running HAProxy's runtime API: register, block, allow, stats; and
                  start, running and stop for `cloudsite local`'s daemon
"""

import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cloudsite.errors import OperationError
from cloudsite.local.edge import (
    CONNECT_TIMEOUT,
    FALL,
    HEALTH_PATH,
    INTERVAL,
    RISE,
    Views,
    alive,
    pid_in,
    terminate,
)

BACKEND: Final = "app"
CHECK: Final = f"check inter {int(INTERVAL * 1000)}ms fall {FALL} rise {RISE}"

_GLOBAL = """\
global
    stats socket {socket} mode 600 level admin
    stats timeout 30s
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    timeout connect {connect}s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    # The ALB does not retry a request on another target; neither does this.
    retries 0
"""
_PLAIN = """\
frontend web
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto https
    default_backend {backend}
"""
_TLS = """\
frontend web
    bind 127.0.0.1:{port} ssl crt {pem} alpn http/1.1
    http-request set-header X-Forwarded-Proto https
    default_backend {backend}
frontend redirect
    bind 127.0.0.1:{http_port}
    http-request redirect code 301 location https://%[req.hdr(host),field(1,:)]:{port}%[capture.req.uri]
"""
_BACKEND = """\
backend {backend}
    balance roundrobin
    option forwardfor
    option httpchk
    http-check send meth GET uri {health} hdr Host 127.0.0.1
    http-check expect status 200
"""


def config(*, socket: Path, port: int, pem: Path | None = None, http_port: int = 0) -> str:
    """HAProxy's configuration: plain HTTP on `port`, or with `pem` TLS on `port` and a
    redirect to it from `http_port`. Paths are quoted as a shell quotes them, which HAProxy
    reads the same way (no `$` expanded, spaces kept)."""
    front = (
        _TLS.format(port=port, pem=shlex.quote(str(pem)), http_port=http_port, backend=BACKEND)
        if pem
        else _PLAIN.format(port=port, backend=BACKEND)
    )
    return (
        _GLOBAL.format(socket=shlex.quote(str(socket)), connect=int(CONNECT_TIMEOUT))
        + front
        + _BACKEND.format(backend=BACKEND, health=HEALTH_PATH)
    )


@dataclass(frozen=True)
class HAProxy(Views):
    port: int
    socket: Path
    deregistration_delay: float  # seconds BlockTraffic waits at most for in-flight requests
    folder: Path | None = None  # the daemon's configuration and pid file (start, stop)
    http_port: int = 0  # with `pem`: plain HTTP here is redirected to HTTPS on `port`
    pem: Path | None = None  # the certificate, its chain and key: TLS on `port`

    # -- the daemon (cloudsite local): started once, then driven through the runtime API
    @property
    def pidfile(self) -> Path:
        assert self.folder is not None
        return self.folder / "haproxy.pid"

    def start(self) -> None:
        """Start HAProxy in the background; an OperationError in one line if it cannot."""
        assert self.folder is not None
        self.socket.parent.mkdir(mode=0o700, exist_ok=True)
        conf = self.folder / "haproxy.cfg"
        conf.write_text(
            config(socket=self.socket, port=self.port, pem=self.pem, http_port=self.http_port)
        )
        result = subprocess.run(  # noqa: S603
            ["haproxy", "-D", "-p", str(self.pidfile), "-f", str(conf)],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise OperationError(
                "local edge",
                (result.stderr.strip().splitlines() or ["haproxy failed"])[-1],
                hint=f"its configuration: {conf}",
            )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline:
                raise OperationError(
                    "local edge", "HAProxy did not start", hint=f"its configuration: {conf}"
                )
            time.sleep(0.05)

    def pid(self) -> int:
        return pid_in(self.pidfile, "haproxy")

    def running(self) -> bool:
        return alive(self.pid()) and self.socket.exists()

    def stop(self) -> None:
        terminate(self.pid())

    # -- the traffic steps, through the runtime API

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
