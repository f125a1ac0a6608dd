"""The WSGI application gunicorn serves: the project's own (project.json's "application"),
with cloudsite.runtime.front in front of it.

The project's wsgi.py is imported as it is, so whatever it wraps around Django (a cache, a
monitoring agent) stays. It must set DJANGO_SETTINGS_MODULE with setdefault, as Django's
template does: the layer's settings module is set first and has to win.
"""

import importlib
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from cloudsite.runtime import front
from cloudsite.runtime.production import load_project

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]
SETTINGS = "cloudsite.runtime.settings"


class Front:
    """Health probes, security headers and the request log around `app`."""

    def __init__(self, app: App, *, csp: str = "") -> None:
        self.app = app
        self.headers = front.Headers(csp=csp)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in front.PROBES:
            ok = path == "/healthz" or front.database_ready()
            start_response("200 OK" if ok else "503 Service Unavailable", list(front.PROBE_HEADERS))
            return [b"ok\n" if ok else b"database unavailable\n"]
        started = time.perf_counter()
        request_id = front.request_id_from(environ.get("HTTP_X_AMZN_TRACE_ID", ""))
        secure = environ.get("HTTP_X_FORWARDED_PROTO") == "https"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.extend(self.headers.added((name for name, _ in headers), secure=secure))
            headers.append(("X-Request-ID", request_id))
            front.log_request(
                request_id=request_id,
                method=environ.get("REQUEST_METHOD", ""),
                path=path,
                status=int(status.split(" ", 1)[0]),
                started=started,
                remote_addr=front.client_address_from(
                    environ.get("HTTP_X_FORWARDED_FOR", ""), environ.get("REMOTE_ADDR", "")
                ),
            )
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def load(project: dict[str, Any] | None = None) -> Front:
    """Import the project's application under the layer's settings and wrap it."""
    project = project or load_project()
    return Front(project_application(project), csp=project.get("content_security_policy", ""))


def project_application(project: dict[str, Any]) -> Any:
    """The project's own application (WSGI or ASGI), imported under the layer's settings; a
    module that puts its own settings in their place is refused, or the layer would not run."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    module, _, attribute = project["application"].partition(":")
    app = getattr(importlib.import_module(module), attribute or "application")
    from django.conf import settings

    if settings.SETTINGS_MODULE != SETTINGS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"{module} sets DJANGO_SETTINGS_MODULE to {settings.SETTINGS_MODULE!r} outright; "
            "use os.environ.setdefault, as Django's own wsgi.py and asgi.py do"
        )
    return app


def __getattr__(name: str) -> Any:
    # `application` is made on first use, so importing this module (tests, tools) is free.
    if name == "application":
        globals()["application"] = load()
        return globals()["application"]
    raise AttributeError(name)


def development() -> Front:
    """The project's application under its own settings (no production layer), with the front
    (health probes, headers, the request log): what `make run` serves. CLOUDSITE_APPLICATION
    names it, module:attribute; CLOUDSITE_CSP is the policy, if any."""
    module, _, attribute = os.environ["CLOUDSITE_APPLICATION"].partition(":")
    app = getattr(importlib.import_module(module), attribute or "application")
    return Front(app, csp=os.environ.get("CLOUDSITE_CSP", ""))
