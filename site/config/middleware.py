"""Middleware that every deployment needs, in the order settings.MIDDLEWARE lists them.

HealthProbeMiddleware     /healthz and /readyz, before host validation and HTTPS redirect
RequestLogMiddleware      one JSON line per request, with a request id
BodySizeLimitMiddleware   413 for bodies over DATA_UPLOAD_MAX_MEMORY_SIZE
ContentSecurityPolicyMiddleware   the CSP header (Django 5.2 has none built in)
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

Handler = Callable[[HttpRequest], HttpResponse]
access_log = logging.getLogger("cloudsite.request")


class HealthProbeMiddleware:
    """Load balancers probe with the instance's IP as Host and over plain HTTP.

    Answering here, first in the chain, means neither ALLOWED_HOSTS nor SECURE_SSL_REDIRECT
    can turn a healthy instance into a failed health check.
    /healthz (liveness) touches nothing; /readyz (readiness) checks the database.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return _probe_response(200, "ok")
        if request.path == "/readyz":
            return self.ready()
        return self.get_response(request)

    @staticmethod
    def ready() -> HttpResponse:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            logging.getLogger("cloudsite.health").warning(
                "readiness failed", extra={"reason": type(exc).__name__}
            )
            return _probe_response(503, "database unavailable")
        return _probe_response(200, "ok")


def _probe_response(status: int, text: str) -> HttpResponse:
    response = HttpResponse(f"{text}\n", status=status, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


class RequestLogMiddleware:
    """Logs method, path, status, duration and the client address the load balancer saw."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        log_request(
            request_id=request_id,
            method=request.method,
            path=request.path,
            status=response.status_code,
            started=started,
            remote_addr=client_address(request),
        )
        return response


def log_request(
    *,
    request_id: str,
    method: str | None,
    path: str,
    status: int,
    started: float,
    remote_addr: str,
    **more: object,
) -> None:
    """The one JSON access-log line per request; `more` adds keys after the common ones."""
    access_log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "remote_addr": remote_addr,
            **more,
        },
    )


def _request_id(request: HttpRequest) -> str:
    return request_id_from(request.headers.get("X-Amzn-Trace-Id", ""))


def request_id_from(trace: str) -> str:
    """The ALB's trace id when present (it ties our log to its access log), else a new one."""
    if trace.startswith("Root=") and len(trace) < 200:
        return trace.split(";")[0].removeprefix("Root=")
    return uuid.uuid4().hex


def client_address(request: HttpRequest) -> str:
    return client_address_from(
        request.headers.get("X-Forwarded-For", ""), str(request.META.get("REMOTE_ADDR", ""))
    )


def client_address_from(forwarded: str, remote: str) -> str:
    """The last X-Forwarded-For entry is the one our load balancer appended; earlier entries
    come from the client and can be forged, so they are never trusted."""
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return remote


class BodySizeLimitMiddleware:
    """Refuses a declared body over the limit with 413, before anything reads it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("bad Content-Length\n", status=400, content_type="text/plain")
        if limit is not None and length > limit:
            return HttpResponse("request body too large\n", status=413, content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
