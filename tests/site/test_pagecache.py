"""The front page cache (config/pagecache.py): repeat requests for public pages are answered
before Django runs, with Django's own headers and X-Page-Cache: hit; behind the runtime layer's
front (as gunicorn serves it) each answer still gets a fresh request id and a log line. Anything
personal, unsafe or not marked public goes to Django every time."""

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from wsgiref.util import setup_testing_defaults

import pytest
from config.pagecache import FrontPageCache
from config.wsgi import application as served
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from cloudsite.runtime.wsgi import Front

pytestmark = pytest.mark.django_db
Headers = dict[str, list[str]]
WSGIApp = Callable[[dict, Callable[..., object]], Iterable[bytes]]


@pytest.fixture
def app() -> Iterator[FrontPageCache]:
    """The served stack, called as gunicorn calls it. Like Django's test client, it keeps the
    handler from closing the test's database connection (inside the test's transaction)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield FrontPageCache(get_wsgi_application())
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def django_runs() -> Iterator[list[object]]:
    """One entry per request that reached Django's handler."""
    calls: list[object] = []

    def count(**kwargs: object) -> None:
        calls.append(kwargs)

    request_started.connect(count)
    yield calls
    request_started.disconnect(count)


def call(
    app: WSGIApp, path: str = "/", *, method: str = "GET", **headers: str
) -> tuple[int, Headers, bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path)
    for name, value in headers.items():
        environ[f"HTTP_{name.upper()}"] = value
    started: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]], *exc: object) -> None:
        started.update(status=status, headers=headers)

    body = b"".join(app(environ, start_response))
    collected: Headers = {}
    for name, value in started["headers"]:
        collected.setdefault(name.lower(), []).append(value)
    return int(started["status"].split()[0]), collected, body


def test_the_served_application_is_behind_the_front_cache() -> None:
    assert isinstance(served, FrontPageCache)


def test_a_repeat_request_is_answered_without_running_django(
    app: FrontPageCache, django_runs: list[object]
) -> None:
    first = call(app, "/destinations/")
    second = call(app, "/destinations/")
    assert len(django_runs) == 1
    assert first[0] == second[0] == 200
    assert first[2] == second[2]
    assert b"Patagonia" in second[2]


def test_a_cached_answer_keeps_every_header_and_says_it_is_a_hit(app: FrontPageCache) -> None:
    _, miss, _ = call(app, "/about/")
    _, hit, _ = call(app, "/about/")
    assert "x-page-cache" not in miss
    assert hit.pop("x-page-cache") == ["hit"]
    assert hit == miss
    assert hit["x-frame-options"] == ["DENY"]
    assert hit["cross-origin-resource-policy"] == ["same-origin"]
    assert "x-request-id" not in hit  # the cache never makes (or stores) one


def test_behind_the_front_each_cached_answer_gets_its_own_request_id_and_log_line(
    app: FrontPageCache, capsys: pytest.CaptureFixture[str]
) -> None:
    served = Front(app, csp="default-src 'none'")  # what cloudsite.runtime.wsgi serves
    _, miss, _ = call(served, "/about/")
    capsys.readouterr()
    trace = "Root=1-67891233-abcdef012345678912345678"
    _, hit, _ = call(
        served, "/about/", X_FORWARDED_FOR="198.51.100.9, 203.0.113.7", X_AMZN_TRACE_ID=trace
    )
    assert hit["x-page-cache"] == ["hit"]
    assert hit["x-request-id"] == ["1-67891233-abcdef012345678912345678"]
    assert miss["x-request-id"] != hit["x-request-id"]
    assert hit["content-security-policy"] == ["default-src 'none'"]  # the front's, once
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["logger"] == "cloudsite.request"
    assert line["request_id"] == hit["x-request-id"][0]
    assert line["remote_addr"] == "203.0.113.7"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/about/", 200)


def test_gzip_and_plain_answers_are_cached_apart(app: FrontPageCache) -> None:
    _, _, plain = call(app, "/")
    call(app, "/", ACCEPT_ENCODING="gzip")
    _, headers, packed = call(app, "/", ACCEPT_ENCODING="gzip, br")
    assert headers["content-encoding"] == ["gzip"]
    assert gzip.decompress(packed) == plain
    assert "content-encoding" not in call(app, "/")[1]


def test_scheme_and_host_are_part_of_the_key(app: FrontPageCache) -> None:
    call(app, "/", HOST="localhost")
    assert call(app, "/", HOST="attacker.example")[0] == 400  # Django's host check still runs
    environ: dict = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_HOST": "localhost"}
    http = app.key({**environ, "HTTP_X_FORWARDED_PROTO": "http"})
    https = app.key({**environ, "HTTP_X_FORWARDED_PROTO": "https"})
    assert http is not None and https is not None and http != https


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", {"COOKIE": "__Host-sessionid=abc"}),
        ("GET", {"AUTHORIZATION": "Basic YTpi"}),
        ("HEAD", {}),
        ("POST", {}),
    ],
)
def test_personal_or_unsafe_requests_always_reach_django(
    app: FrontPageCache, django_runs: list[object], method: str, headers: dict[str, str]
) -> None:
    call(app, "/about/")  # a cached entry exists for the plain GET
    call(app, "/about/", method=method, **headers)
    call(app, "/about/", method=method, **headers)
    assert len(django_runs) == 3


@pytest.mark.parametrize("path", ["/admin/login/", "/no/such/page/", "/healthz"])
def test_pages_not_marked_public_are_never_cached(
    app: FrontPageCache, django_runs: list[object], path: str
) -> None:
    call(app, path)
    call(app, path)
    assert len(django_runs) == 2


def test_clearing_the_cache_as_the_admin_does_empties_the_front_cache(
    app: FrontPageCache, django_runs: list[object]
) -> None:
    call(app, "/destinations/")
    cache.clear()  # what DestinationAdmin does after a save
    call(app, "/destinations/")
    assert len(django_runs) == 2
