"""Public pages. Each is cached whole for DJANGO_PAGE_CACHE_SECONDS: they change only
through the admin, and a cached page costs a fraction of a rendered one (docs/benchmarks.md)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.http import require_safe

from .models import Destination


def _cached(view):
    return require_safe(cache_page(settings.CACHES["default"]["TIMEOUT"])(view))


@_cached
def home(request: HttpRequest) -> HttpResponse:
    featured = Destination.objects.filter(published=True)[:3]
    return render(request, "travel/home.html", {"featured": featured})


@_cached
def destination_list(request: HttpRequest) -> HttpResponse:
    destinations = Destination.objects.filter(published=True)
    return render(request, "travel/destination_list.html", {"destinations": destinations})


@_cached
def destination_detail(request: HttpRequest, slug: str) -> HttpResponse:
    destination = get_object_or_404(Destination, slug=slug, published=True)
    return render(request, "travel/destination_detail.html", {"destination": destination})


@_cached
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "travel/about.html")


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): send them to
    the SVG icon rather than through the 404 page on every visit."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
