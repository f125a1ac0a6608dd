"""A page cache in front of Django, at the WSGI layer (config/wsgi.py wraps the application).

The public pages are cached whole by cache_page (travel/views.py), but serving one from there
still costs a trip through every middleware: about a millisecond of CPU, several times a bare
"hello" view. This layer answers a repeat request for such a page before Django runs, from
the same cache backend, in tens of microseconds (docs/benchmarks.md has the figures).

What it serves, and why that is safe:
  - Only a GET with no body, no cookie and no Authorization header, so never a signed-in user.
  - Only a response Django itself produced for the same scheme (X-Forwarded-Proto), Host,
    path, query string and gzip acceptance: host validation, the HTTPS redirect, compression
    and every security header were applied when the entry was made.
  - Only a 200 that cache_page marked public (Cache-Control max-age) with no Set-Cookie and no
    Vary on Cookie, kept for that max-age. Static files stay with whitenoise.
  - The entries live in Django's default cache, so the admin's cache.clear() empties it too.
What must differ per request (a fresh request id, the log line) is added by whatever serves
the application; the id is never stored.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_MAX_AGE = re.compile(r"max-age=(\d+)")
_GZIP = re.compile(r"\bgzip\b")
MAX_BODY = 256 * 1024  # pages only; anything larger is not worth the memory


class FrontPageCache:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        entry = cache.get(key)
        if entry is not None:
            return self.serve(entry, start_response)
        return self.fill(key, environ, start_response)

    def key(self, environ: dict[str, Any]) -> str | None:
        """The cache key for a request this layer may answer, else None."""
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("HTTP_COOKIE")
            or environ.get("HTTP_AUTHORIZATION")
            or environ.get("CONTENT_LENGTH") not in (None, "", "0")
            or path.startswith(self.static_prefix)
        ):
            return None
        gzip = bool(_GZIP.search(environ.get("HTTP_ACCEPT_ENCODING", "")))
        parts = (
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_HOST", ""),
            path,
            environ.get("QUERY_STRING", ""),
            "gzip" if gzip else "",
        )
        return "frontpage:" + "|".join(parts)

    def fill(
        self, key: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, *exc)

        result = self.app(environ, capture)
        seconds = _cacheable_for(captured, result)
        if not seconds:
            return result
        body = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        if len(body) <= MAX_BODY:
            status, headers = captured
            kept = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            cache.set(key, (status, kept, body), seconds)
        return [body]

    @staticmethod
    def serve(
        entry: tuple[str, list[tuple[str, str]], bytes], start_response: StartResponse
    ) -> Iterable[bytes]:
        status, headers, body = entry
        start_response(status, [*headers, ("X-Page-Cache", "hit")])
        return [body]


def _cacheable_for(captured: list[Any], result: Iterable[bytes]) -> int:
    """Seconds the response may be kept (cache_page's max-age), or 0 when it must not be."""
    if not captured or not captured[0].startswith("200 ") or getattr(result, "streaming", True):
        return 0
    headers = {k.lower(): v for k, v in captured[1]}
    if "set-cookie" in headers or "cookie" in headers.get("vary", "").lower():
        return 0
    control = headers.get("cache-control", "")
    if "private" in control or "no-store" in control or "no-cache" in control:
        return 0
    match = _MAX_AGE.search(control)
    return int(match.group(1)) if match else 0
