"""JSON log lines for CloudWatch (cloudsite.runtime.jsonlog): the formatter, the unknown-Host
warning, the LOGGING a project without its own gets, and the request line's shape."""

import io
import json
import logging
import sys

import pytest
from django.test import Client
from django.utils.module_loading import import_string

from cloudsite.runtime.jsonlog import JsonFormatter, logging_for, request_line

LOGGING = logging_for("INFO")


def test_the_formatter_keeps_a_traceback_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "failed", None, sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


def test_the_formatter_emits_extra_fields_but_not_django_s_request_object() -> None:
    record = logging.LogRecord(
        "django.request", logging.WARNING, "f", 1, "Not Found: %s", ("/x",), None
    )
    record.__dict__.update(status_code=404, request=object())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Not Found: /x"
    assert (entry["level"], entry["logger"], entry["status_code"]) == (
        "WARNING",
        "django.request",
        404,
    )
    assert "request" not in entry


def _stdout_handler_from_logging() -> tuple[logging.Handler, io.StringIO]:
    """LOGGING's stdout handler as dictConfig would build it (its formatter and filter, by
    the dotted paths LOGGING names), writing to a buffer."""
    declared = LOGGING["handlers"]["stdout"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(import_string(LOGGING["formatters"][declared["formatter"]]["()"])())
    for name in declared["filters"]:
        handler.addFilter(import_string(LOGGING["filters"][name]["()"])())
    return handler, stream


@pytest.mark.django_db
def test_an_unknown_host_is_logged_as_one_warning_line_without_a_traceback() -> None:
    handler, stream = _stdout_handler_from_logging()
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(handler)
    try:
        assert Client().get("/", headers={"host": "attacker.example"}).status_code == 400
    finally:
        logger.removeHandler(handler)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["level"], line["logger"]) == ("WARNING", "django.security.DisallowedHost")
    assert "attacker.example" in line["message"]
    assert "exception" not in line


def test_other_errors_keep_their_level_and_traceback() -> None:
    handler, stream = _stdout_handler_from_logging()
    try:
        raise RuntimeError("real trouble")
    except RuntimeError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, "f", 1, "x", None, sys.exc_info()
        )
    handler.handle(record)
    line = json.loads(stream.getvalue())
    assert line["level"] == "ERROR"
    assert "RuntimeError: real trouble" in line["exception"]


def test_logging_sends_django_to_stdout_and_leaves_requests_to_the_front() -> None:
    assert LOGGING["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert LOGGING["loggers"]["django"]["handlers"] == ["stdout"]
    # The front's request line replaces Django's per-request lines; errors still show.
    assert LOGGING["loggers"]["django.request"]["level"] == "ERROR"
    assert LOGGING["loggers"]["django.server"]["level"] == "WARNING"
    assert LOGGING["disable_existing_loggers"] is False


def test_the_level_applies_to_django_and_to_the_root_logger() -> None:
    config = logging_for("WARNING")
    assert config["root"]["level"] == config["loggers"]["django"]["level"] == "WARNING"
    assert logging_for("WARNING") is not logging_for("WARNING")  # a fresh dict each time


def test_the_request_line_has_the_formatter_s_shape_and_the_request_fields() -> None:
    line = json.loads(request_line(0.25, request_id="r1", method="GET", path="/", status=200))
    assert line == {
        "time": "1970-01-01T00:00:00.250+00:00",
        "level": "INFO",
        "logger": "cloudsite.request",
        "message": "request",
        "request_id": "r1",
        "method": "GET",
        "path": "/",
        "status": 200,
    }
