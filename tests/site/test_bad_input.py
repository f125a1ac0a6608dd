"""Bad requests: an unknown Host, an oversized body, a garbage Content-Length. (How an unknown
Host is logged is the runtime layer's: tests/runtime/test_jsonlog.py.)"""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unknown_host_gets_400_without_a_trace(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = client.get("/", headers={"host": "attacker.example"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Traceback" not in body
    assert "attacker.example" not in body
    assert "Bad request" in body


def test_oversized_body_is_refused_with_413(client: Client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/admin/login/", data=b"x" * 2048, content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_body_within_the_limit_is_accepted(client: Client) -> None:
    response = client.post("/admin/login/", data={"username": "a", "password": "b"})
    assert response.status_code in (200, 403)  # the login form (or CSRF refusal), not 413


def test_garbage_content_length_is_a_400(client: Client) -> None:
    assert client.get("/", CONTENT_LENGTH="lots").status_code == 400
