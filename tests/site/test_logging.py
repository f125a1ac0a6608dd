"""Request logs: one JSON object per line with the fields CloudWatch queries use."""

import json
import logging
import sys

import pytest
from config.logging import JsonFormatter
from django.test import Client

pytestmark = pytest.mark.django_db


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "cloudsite.request"
    ]


def test_each_request_logs_one_json_line_with_its_fields(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cloudsite.request"):
        response = client.get("/about/", headers={"x-forwarded-for": "198.51.100.9, 203.0.113.7"})
    [line] = _request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == "/about/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    # Only the address the load balancer appended is trusted.
    assert line["remote_addr"] == "203.0.113.7"
    assert line["request_id"] == response["X-Request-ID"]


def test_alb_trace_id_becomes_the_request_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678"
    with caplog.at_level(logging.INFO, logger="cloudsite.request"):
        client.get("/about/", headers={"x-amzn-trace-id": trace + ";Sampled=1"})
    assert _request_lines(caplog)[0]["request_id"] == "1-67891233-abcdef012345678912345678"


def test_formatter_keeps_tracebacks_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "failed", None, sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


def test_no_print_statements_in_the_site() -> None:
    from pathlib import Path

    site = Path(__file__).resolve().parents[2] / "site"
    offenders = [
        str(p)
        for p in site.rglob("*.py")
        if "print(" in p.read_text() and "migrations" not in p.parts
    ]
    assert offenders == []
