"""The site's own middleware, in the order settings.MIDDLEWARE lists them.

BodySizeLimitMiddleware   413 for bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, before a view reads
ResourcePolicyMiddleware  Cross-Origin-Resource-Policy and Permissions-Policy: nothing on this
                          site is meant to be embedded elsewhere, and it needs no camera,
                          microphone or location

The health probes, the request log and the Content-Security-Policy come from the platform the
site is deployed with (cloudsite's runtime layer; the policy is in cloudsite.toml).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Handler = Callable[[HttpRequest], HttpResponse]


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


class ResourcePolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
