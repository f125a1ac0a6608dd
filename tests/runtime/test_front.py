"""What answers in front of a project's WSGI application (cloudsite.runtime.front, through
cloudsite.runtime.wsgi.Front): the health probes before Django, the security headers, the
request id and the one JSON request line, around a tiny application and around Django's own
(the test profile's settings)."""

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections
from django.test import override_settings

from cloudsite.runtime.front import HSTS
from cloudsite.runtime.wsgi import Front

Headers = dict[str, list[str]]
App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TRACE = "Root=1-67891233-abcdef012345678912345678"


class Page:
    """A WSGI application that answers `status` with `headers` and counts its calls."""

    def __init__(self, status: str = "200 OK", headers: list[tuple[str, str]] | None = None):
        self.status, self.headers, self.calls = status, headers or [], 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.calls += 1
        start_response(self.status, [("Content-Type", "text/html"), *self.headers])
        return [b"<p>page</p>"]


def call(app: App, path: str = "/", **headers: str) -> tuple[int, Headers, bytes]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD="GET", PATH_INFO=path, REMOTE_ADDR="192.0.2.1")
    for name, value in headers.items():
        environ[f"HTTP_{name.upper()}"] = value
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *exc: object) -> None:
        started.update(status=status, headers=headers)

    body = b"".join(app(environ, start_response))
    collected: Headers = {}
    for name, value in started["headers"]:
        collected.setdefault(name.lower(), []).append(value)
    return int(started["status"].split()[0]), collected, body


@pytest.fixture
def keep_connections() -> Iterator[None]:
    """Django's handler, called as gunicorn calls it, must not close the test's database
    connection (inside the test's transaction); Django's test client does the same."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# -- the probes


@pytest.mark.parametrize("host", ["10.0.3.7", "10.0.3.7:8000", "unknown.example", "localhost"])
def test_healthz_answers_200_for_any_host_without_calling_the_application(host: str) -> None:
    page = Page()
    status, headers, body = call(Front(page), "/healthz", HOST=host)
    assert (status, body) == (200, b"ok\n")
    assert headers["cache-control"] == ["no-store"]
    assert headers["content-type"] == ["text/plain"]
    assert page.calls == 0


def test_probes_write_no_request_line(capsys: pytest.CaptureFixture[str]) -> None:
    call(Front(Page()), "/healthz")
    assert capsys.readouterr().out == ""


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connections")
@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["www.example.com"])
def test_healthz_passes_django_s_host_check_and_https_redirect() -> None:
    served = Front(get_wsgi_application())  # its middleware reads the settings above
    assert call(served, "/healthz", HOST="10.0.3.7")[0] == 200
    # The same settings refuse and redirect an ordinary page, so the exemption is real.
    assert call(served, "/about/", HOST="10.0.3.7")[0] == 400
    status, headers, _ = call(served, "/about/", HOST="www.example.com")
    assert (status, headers["location"]) == (301, ["https://www.example.com/about/"])


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connections")
def test_healthz_touches_no_database(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert call(Front(get_wsgi_application()), "/healthz")[0] == 200


# transaction=True: the probe closes stale connections as a request would, which a test's
# own transaction would not survive.
@pytest.mark.django_db(transaction=True)
def test_readyz_answers_200_when_the_database_answers() -> None:
    page = Page()
    assert call(Front(page), "/readyz", HOST="10.0.3.7") == (
        200,
        {"content-type": ["text/plain"], "cache-control": ["no-store"]},
        b"ok\n",
    )
    assert page.calls == 0


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_and_logs_the_reason_when_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("connection refused")

    # Break the real connection path: cursor() fails as a dead server would make it fail.
    monkeypatch.setattr(connections["default"], "cursor", refuse)
    status, _, body = call(Front(Page()), "/readyz")
    assert (status, body) == (503, b"database unavailable\n")
    [line] = logged(capsys)
    assert (line["logger"], line["level"]) == ("cloudsite.health", "WARNING")
    assert (line["message"], line["reason"]) == ("readiness failed", "ConnectionRefusedError")


# -- the headers


def test_the_safe_headers_are_added_where_the_response_lacks_them() -> None:
    _, headers, _ = call(Front(Page()))
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["referrer-policy"] == ["strict-origin-when-cross-origin"]
    assert headers["x-frame-options"] == ["SAMEORIGIN"]
    assert headers["cross-origin-opener-policy"] == ["same-origin"]


def test_a_header_the_application_sets_is_kept_and_never_doubled() -> None:
    own = [("X-Frame-Options", "DENY"), ("referrer-policy", "no-referrer")]
    _, headers, _ = call(Front(Page(headers=own)))
    assert headers["x-frame-options"] == ["DENY"]
    assert headers["referrer-policy"] == ["no-referrer"]


def test_hsts_is_added_only_to_requests_the_load_balancer_says_came_over_https() -> None:
    served = Front(Page())
    assert "strict-transport-security" not in call(served)[1]
    secure = call(served, X_FORWARDED_PROTO="https")[1]
    assert secure["strict-transport-security"] == [HSTS[1]]
    assert "max-age=63072000" in HSTS[1] and "includeSubDomains" in HSTS[1]
    own = Front(Page(headers=[("Strict-Transport-Security", "max-age=600")]))
    assert call(own, X_FORWARDED_PROTO="https")[1]["strict-transport-security"] == ["max-age=600"]


def test_a_content_security_policy_is_sent_only_when_the_configuration_names_one() -> None:
    assert "content-security-policy" not in call(Front(Page()))[1]
    policy = "default-src 'none'; img-src 'self'"
    assert call(Front(Page(), csp=policy))[1]["content-security-policy"] == [policy]
    own = Front(Page(headers=[("Content-Security-Policy", "default-src 'self'")]), csp=policy)
    assert call(own)[1]["content-security-policy"] == ["default-src 'self'"]


# -- the request id and the request line


def test_each_request_gets_a_new_request_id_unless_the_load_balancer_traced_it() -> None:
    served = Front(Page())
    first, second = call(served)[1]["x-request-id"], call(served)[1]["x-request-id"]
    assert first != second
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in first + second)
    traced = call(served, X_AMZN_TRACE_ID=TRACE + ";Sampled=1")[1]
    assert traced["x-request-id"] == ["1-67891233-abcdef012345678912345678"]
    for junk in ("Self=1-2-3", "Root=" + "x" * 300):  # not the ALB's, or absurdly long
        [fresh] = call(served, X_AMZN_TRACE_ID=junk)[1]["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", fresh)


def test_each_request_is_one_json_line_on_stdout_with_its_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    forwarded = "198.51.100.9, 203.0.113.7"
    _, headers, _ = call(Front(Page("404 Not Found")), "/about/", X_FORWARDED_FOR=forwarded)
    [line] = logged(capsys)
    assert line["logger"] == "cloudsite.request"
    assert (line["level"], line["message"]) == ("INFO", "request")
    assert (line["method"], line["path"], line["status"]) == ("GET", "/about/", 404)
    assert isinstance(line["duration_ms"], float)
    # Only the address the load balancer appended is trusted; earlier ones can be forged.
    assert line["remote_addr"] == "203.0.113.7"
    assert line["request_id"] == headers["x-request-id"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_without_a_load_balancer_the_peer_address_is_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call(Front(Page()))
    assert logged(capsys)[0]["remote_addr"] == "192.0.2.1"


def test_the_request_line_is_written_whatever_the_project_s_logging_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.disable(logging.CRITICAL)  # as a project's LOGGING may silence every logger
    try:
        call(Front(Page()), "/about/")
    finally:
        logging.disable(logging.NOTSET)
    assert [line["path"] for line in logged(capsys)] == ["/about/"]
