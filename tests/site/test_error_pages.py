"""Pages a browser reaches without asking: the CSRF failure page and /favicon.ico."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_csrf_failure_is_our_page_without_inline_styles() -> None:
    # Django's built-in page carries a <style> block, which the CSP blocks (a console error).
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body
    assert "<style" not in body
    assert "style=" not in body


def test_favicon_ico_is_sent_to_the_svg_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"
    assert client.get(response["Location"]).status_code == 200
