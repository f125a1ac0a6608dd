"""The public pages, the admin and the error pages."""

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, override_settings
from travel.models import Destination
from travel.sample_content import DESTINATIONS

pytestmark = pytest.mark.django_db


def test_sample_content_is_loaded_by_the_data_migration() -> None:
    assert Destination.objects.count() == len(DESTINATIONS)
    assert Destination.objects.filter(slug="kyoto", country="Japan").exists()


def test_home_shows_the_quote_over_a_hero_with_dimensions(client: Client) -> None:
    html = client.get("/").content.decode()
    assert "The world is a book, and those who do not travel read only one page." in html
    assert 'width="1920" height="1080"' in html
    assert 'rel="preload" as="image"' in html


def test_home_features_published_destinations(client: Client) -> None:
    Destination.objects.update(published=False)
    Destination.objects.filter(slug="lisbon").update(published=True)
    html = client.get("/").content.decode()
    assert "Lisbon" in html
    assert "Kyoto" not in html


def test_destination_list_shows_every_published_destination(client: Client) -> None:
    html = client.get("/destinations/").content.decode()
    for destination in DESTINATIONS:
        assert destination["name"] in html


def test_destination_detail_shows_the_description(client: Client) -> None:
    response = client.get("/destinations/patagonia/")
    assert response.status_code == 200
    assert "Torres del Paine" in response.content.decode()


def test_unpublished_destination_is_not_found(client: Client) -> None:
    Destination.objects.filter(slug="kyoto").update(published=False)
    assert client.get("/destinations/kyoto/").status_code == 404


def test_about_page(client: Client) -> None:
    assert "reference website" in client.get("/about/").content.decode()


def test_pages_refuse_unsafe_methods(client: Client) -> None:
    assert client.post("/").status_code == 405


def test_unknown_url_gets_the_custom_404_page(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "This page is not in the book" in response.content.decode()


def test_404_and_500_pages_leak_nothing(client: Client) -> None:
    from django.template.loader import render_to_string

    server_error = render_to_string("500.html")
    not_found = client.get("/missing/").content.decode()
    for page in (server_error, not_found):
        for leak in ("Traceback", "DJANGO_", "settings", "/work/", 'File "'):
            assert leak not in page


@override_settings(DEBUG=False)
def test_unhandled_exception_renders_the_500_page_without_details() -> None:
    from config import urls
    from django.urls import path

    def boom(request: object) -> HttpResponse:
        raise RuntimeError("secret internal detail")

    client = Client(raise_request_exception=False)
    with override_settings(
        ROOT_URLCONF=type("U", (), {"urlpatterns": [path("boom/", boom), *urls.urlpatterns]})
    ):
        response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret internal detail" not in body


def test_admin_can_edit_a_destination(client: Client) -> None:
    User.objects.create_superuser("editor", "editor@example.com", "a-long-test-password")
    client.login(username="editor", password="a-long-test-password")
    kyoto = Destination.objects.get(slug="kyoto")
    response = client.get(f"/admin/travel/destination/{kyoto.pk}/change/")
    assert response.status_code == 200
    assert "Kyoto" in response.content.decode()


def test_admin_save_clears_the_page_cache(client: Client) -> None:
    assert "Kyoto" in client.get("/destinations/").content.decode()
    User.objects.create_superuser("editor", "editor@example.com", "a-long-test-password")
    client.login(username="editor", password="a-long-test-password")
    kyoto = Destination.objects.get(slug="kyoto")
    form = {
        f.name: getattr(kyoto, f.name)
        for f in Destination._meta.fields
        if f.name not in ("id", "updated")
    }
    form["name"] = "Kyōto"
    assert client.post(f"/admin/travel/destination/{kyoto.pk}/change/", form).status_code == 302
    assert "Kyōto" in client.get("/destinations/").content.decode()
