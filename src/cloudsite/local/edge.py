"""The local TLS edge, in the Application Load Balancer's place: what every edge does, and
which one runs.

Two edges keep the same contract, so the CodeDeploy stand-in and `cloudsite local` drive
either without knowing which:

    haproxy.HAProxy   HAProxy's own health checks and runtime API (preferred when installed)
    nginx.Nginx       nginx OSS, which has neither: cloudsite probes /healthz itself and
                      changes the targets by rewriting the upstream and a graceful reload

Like the ALB, an edge terminates TLS (TLS 1.2 and 1.3), redirects plain HTTP to HTTPS, adds
X-Forwarded-Proto and X-Forwarded-For, does not retry a request on another target, and checks
a target with GET /healthz carrying the target's address as Host: healthy after 2 passes,
unhealthy after 2 failures, every 0.5 s (the template's thresholds, the interval scaled down).

Here too: `Views` (stat and serving, from an edge's stats), `healthy`, the one health check
(nginx's edge makes it; HAProxy makes its own), and the pid-file helpers both daemons share
(`pid_in`, `alive`, `terminate`).
"""

import contextlib
import http.client
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Final, Protocol

KINDS: Final = ("haproxy", "nginx")  # in the order `auto` prefers them
LABELS: Final = {"haproxy": "HAProxy", "nginx": "nginx"}
HEALTH_PATH: Final = "/healthz"
INTERVAL: Final = 0.5  # seconds between health checks
RISE: Final = 2  # passes before a target is healthy
FALL: Final = 2  # failures before it is unhealthy
CONNECT_TIMEOUT: Final = 2.0


class Edge(Protocol):
    """What CodeDeploy's traffic steps need of a load balancer, and what `local status` reads."""

    @property
    def port(self) -> int:
        """The port clients connect to (HTTPS, or plain HTTP in the tests)."""

    @property
    def deregistration_delay(self) -> float:
        """The seconds block() waits at most for in-flight requests."""

    def register(self, name: str, *, port: int) -> None:
        """Add a target, out of service: it takes no traffic until allow()."""

    def block(self, name: str) -> float:
        """BlockTraffic: no new requests; waits for the in-flight ones; returns the seconds."""

    def deregister(self, name: str) -> None:
        """Remove a target (drained by block() first) altogether."""

    def allow(self, name: str, *, timeout: float = 30) -> float:
        """AllowTraffic: back in service once `RISE` health checks pass (TimeoutError if not)."""

    def stats(self) -> dict[str, dict[str, str]]:
        """Each target by name, with at least its "status": UP, DOWN, MAINT, ..."""

    def stat(self, name: str) -> dict[str, str]:
        """One target's row of stats()."""

    def serving(self) -> list[str]:
        """The targets that are UP and take traffic."""


class Views:
    """stat() and serving(), read from an edge's own stats() (both edges inherit them)."""

    def stats(self) -> dict[str, dict[str, str]]:
        raise NotImplementedError

    def stat(self, name: str) -> dict[str, str]:
        return self.stats()[name]

    def serving(self) -> list[str]:
        return sorted(name for name, row in self.stats().items() if row["status"] == "UP")


def installed() -> list[str]:
    """The edges this machine can run, preferred first."""
    return [kind for kind in KINDS if shutil.which(kind)]


def healthy(port: int, *, timeout: float = CONNECT_TIMEOUT) -> bool:
    """One health check, as the ALB makes it: GET /healthz, Host the target's address, 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", HEALTH_PATH, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


# -- the daemons' processes: each edge's master writes a pid file
def pid_in(pidfile: Path, program: str) -> int:
    """The pid a pid file holds, when that process is `program`; otherwise 0 (no file, or a
    pid the system gave to another process since: a pid file is never trusted blindly)."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    if pid <= 1:
        return 0
    cmdline = Path("/proc") / str(pid) / "cmdline"
    if Path("/proc").is_dir():
        try:
            if program.encode() not in cmdline.read_bytes():
                return 0
        except OSError:
            return 0
    return pid


def alive(pid: int, *, wait: float = 0) -> bool:
    """Whether process `pid` runs (still, after up to `wait` seconds: a master stopping)."""
    deadline = time.monotonic() + wait
    while pid:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.05)
    return False


def terminate(pid: int) -> None:
    """Stop a master (SIGTERM: both edges' fast shutdown) and wait up to 10 s for it to go."""
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        alive(pid, wait=10)
