"""What answers in front of the project's application, for WSGI (wsgi.py) and ASGI (asgi.py):

    /healthz   liveness: 200 at once, before Django, so neither ALLOWED_HOSTS nor the HTTPS
               redirect can fail the load balancer's check (it sends the instance's IP as Host,
               over plain HTTP)
    /readyz    readiness: 200 when the default database answers SELECT 1, else 503
    headers    the security headers that cannot break a page, added where the response lacks
               them; Content-Security-Policy only when the configuration names one
    the log    one JSON line per request on stdout, with the load balancer's trace id

Kept small and allocation-light: every request passes through it.
"""

import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Final

PROBES: Final = ("/healthz", "/readyz")
PROBE_HEADERS: Final = [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]
HSTS: Final = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")
# Headers no page depends on. X-Frame-Options SAMEORIGIN still lets a site frame itself.
SAFE_HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_write_lock = threading.Lock()


class Headers:
    """The headers to add to every response, computed once per process."""

    def __init__(self, *, csp: str) -> None:
        self.always = list(SAFE_HEADERS)
        if csp:
            self.always.append(("Content-Security-Policy", csp))
        self.names = {name.lower() for name, _ in self.always}

    def added(self, present: Iterable[str], *, secure: bool) -> list[tuple[str, str]]:
        """The headers a response with header names `present` lacks."""
        have = {name.lower() for name in present}
        extra = [(n, v) for n, v in self.always if n.lower() not in have]
        if secure and "strict-transport-security" not in have:
            extra.append(HSTS)
        return extra


def database_ready() -> bool:
    """SELECT 1 on the default database; connections are closed or kept as Django would."""
    from django.db import close_old_connections, connections

    close_old_connections()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "not ready"; the reason goes to the log
        log_event(
            "readiness failed",
            logger="cloudsite.health",
            level="WARNING",
            fields={"reason": type(error).__name__},
        )
        return False
    finally:
        close_old_connections()
    return True


def request_id_from(trace: str) -> str:
    """The ALB's trace id when present (it ties our log to its access log), else a new one."""
    if trace.startswith("Root=") and len(trace) < 200:
        return trace.split(";")[0].removeprefix("Root=")
    return uuid.uuid4().hex


def client_address_from(forwarded: str, remote: str) -> str:
    """The last X-Forwarded-For entry is the one our load balancer appended; earlier entries
    come from the client and can be forged, so they are never trusted."""
    if forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return remote


def log_request(
    *, request_id: str, method: str, path: str, status: int, started: float, remote_addr: str
) -> None:
    """The one access-log line per request."""
    from cloudsite.runtime.jsonlog import request_line

    _write(
        request_line(
            time.time(),
            request_id=request_id,
            method=method,
            path=path,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            remote_addr=remote_addr,
        )
    )


def log_event(
    message: str, *, logger: str, level: str = "INFO", fields: Mapping[str, object] | None = None
) -> None:
    """A JSON line on stdout, whatever the project's LOGGING says."""
    import json

    from cloudsite.runtime.jsonlog import timestamp

    entry = {"time": timestamp(time.time()), "level": level, "logger": logger, "message": message}
    _write(json.dumps({**entry, **(fields or {})}, default=str))


def _write(line: str) -> None:
    with _write_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
