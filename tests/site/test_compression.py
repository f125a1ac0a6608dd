"""Pages are compressed for clients that accept gzip; static files keep whitenoise's
build-time compression (and images are never compressed again)."""

import gzip

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_is_gzipped_when_the_client_accepts_it(client: Client) -> None:
    plain = client.get("/")
    assert "Content-Encoding" not in plain
    compressed = client.get("/", headers={"accept-encoding": "gzip, deflate, br"})
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content) / 2


def test_images_are_served_as_they_are(client: Client) -> None:
    response = client.get(
        "/static/img/hero/hero-640.avif", headers={"accept-encoding": "gzip, deflate, br"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif"
    assert "Content-Encoding" not in response
