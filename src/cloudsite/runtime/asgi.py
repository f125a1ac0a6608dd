"""The ASGI application, for a project with no WSGI application: the project's own, served by
uvicorn's workers under gunicorn, with cloudsite.runtime.front in front of it (as wsgi.py)."""

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cloudsite.runtime import front
from cloudsite.runtime.production import load_project
from cloudsite.runtime.wsgi import project_application

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Front:
    def __init__(self, app: App, *, csp: str = "") -> None:
        self.app = app
        self.headers = front.Headers(csp=csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # websockets and lifespan pass through
            return
        path = scope.get("path", "")
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        if path in front.PROBES:
            ok = path == "/healthz" or await _ready()
            await _plain(send, 200 if ok else 503, b"ok\n" if ok else b"database unavailable\n")
            return
        started = time.perf_counter()
        request_id = front.request_id_from(headers.get("x-amzn-trace-id", ""))
        secure = headers.get("x-forwarded-proto") == "https"
        client = scope.get("client") or ("", 0)

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = [k.decode("latin-1") for k, _ in message.get("headers", [])]
                extra = [*self.headers.added(present, secure=secure), ("X-Request-ID", request_id)]
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in extra
                ]
                front.log_request(
                    request_id=request_id,
                    method=scope.get("method", ""),
                    path=path,
                    status=int(message["status"]),
                    started=started,
                    remote_addr=front.client_address_from(
                        headers.get("x-forwarded-for", ""), client[0]
                    ),
                )
            await send(message)

        await self.app(scope, receive, wrapped)


async def _ready() -> bool:
    from asgiref.sync import sync_to_async

    return bool(await sync_to_async(front.database_ready, thread_sensitive=True)())


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in front.PROBE_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def load(project: dict[str, Any] | None = None) -> Front:
    """Import the project's application under the layer's settings and wrap it (wsgi.py's)."""
    project = project or load_project()
    return Front(project_application(project), csp=project.get("content_security_policy", ""))


def __getattr__(name: str) -> Any:
    if name == "application":
        globals()["application"] = load()
        return globals()["application"]
    raise AttributeError(name)
