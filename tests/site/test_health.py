"""/healthz and /readyz: answered before host validation and the HTTPS redirect."""

import pytest
from django.db import connection
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["10.0.3.7", "10.0.3.7:8000", "unknown.example", "localhost"])
def test_healthz_answers_200_for_any_host(client: Client, host: str) -> None:
    response = client.get("/healthz", headers={"host": host})
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["www.example.com"])
def test_healthz_is_not_redirected_to_https_over_plain_http(client: Client) -> None:
    response = client.get("/healthz", headers={"host": "10.0.3.7"})
    assert response.status_code == 200
    # The same settings do redirect an ordinary page, so the exemption is real.
    assert client.get("/about/", headers={"host": "www.example.com"}).status_code == 301


def test_healthz_touches_no_database(client: Client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_readyz_answers_200_when_the_database_answers(client: Client) -> None:
    response = client.get("/readyz", headers={"host": "10.0.3.7"})
    assert response.status_code == 200


def test_readyz_answers_503_with_a_reason_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("connection refused")

    # Break the real connection path, not the view: cursor() must fail as a dead server would.
    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"database unavailable\n"
