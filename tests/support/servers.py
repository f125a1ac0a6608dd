"""Real servers on loopback for tests: free ports, readiness waits, managed processes.

Every server a test starts listens on a port chosen at run time, so suites (and parallel
checkouts on one machine) never collide.
"""

import contextlib
import http.server
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    """Block until something accepts TCP connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout:.0f} s")


@contextlib.contextmanager
def serving(
    handler: Callable[..., socketserver.BaseRequestHandler],
    *,
    wrap: Callable[[socket.socket], socket.socket] | None = None,
) -> Iterator[http.server.ThreadingHTTPServer]:
    """An HTTP server for `handler` on a free loopback port, run by a daemon thread and shut
    down (and closed) on exit. `wrap` replaces its listening socket, e.g. with a TLS one."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap(server.socket)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start argv in its own process group, wait for its port, and stop it (SIGTERM, then
    SIGKILL) on exit, even when the test fails. Output goes to `log` (or is discarded)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        if port is not None:
            _wait_or_report(proc, port=port, timeout=timeout, log=log)
        yield proc
    finally:
        stop(proc)
        if log:
            out.close()  # type: ignore[union-attr]


def _wait_or_report(
    proc: subprocess.Popen[bytes], *, port: int, timeout: float, log: Path | None
) -> None:
    try:
        wait_for_port(port, timeout=timeout)
    except TimeoutError:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise TimeoutError(
            f"{proc.args!r} exited {proc.poll()} or never listened on {port}:\n{tail}"
        ) from None


def stop(proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left after `grace` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def postgres_url() -> str:
    """Start (once) the project's own PostgreSQL cluster and return its DATABASE_URL."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "postgres.sh"), "start"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the project's PostgreSQL cluster, dropped afterwards; its URL."""
    import secrets
    from urllib.parse import urlsplit

    import psycopg

    server = postgres_url()
    name = f"cstest_c4_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlsplit(server)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
