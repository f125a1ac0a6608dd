"""Wanderpage served for real as the image serves it (gunicorn, the runtime layer's config and
front, the production profile): its pages with the policy cloudsite.toml names, its page cache
behind the front, and its collected static files. (The server itself: tests/runtime/.)"""

import json
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.site.production import SITE
from tests.site.served import Served, get, gunicorn_site

pytestmark = pytest.mark.network
THROUGH_THE_LOAD_BALANCER = {"Host": "www.example.com", "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> Iterator[Served]:
    # One worker: the page cache is per process, so a repeat request meets the first one's.
    workdir = tmp_path_factory.mktemp("wanderpage")
    with gunicorn_site(workdir, static_root=production_static, WEB_CONCURRENCY="1") as served:
        yield served


def logged(site: Served, request_id: str) -> list[dict]:
    deadline = time.monotonic() + 10
    while True:
        lines = [e for e in map(json.loads, site.log_lines()) if e.get("request_id") == request_id]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_a_page_is_served_with_the_policy_cloudsite_toml_names(site: Served) -> None:
    status, headers, body = get(site.port, "/destinations/kyoto/", THROUGH_THE_LOAD_BALANCER)
    assert status == 200
    assert b"Fushimi Inari" in body
    configured = tomllib.loads((SITE / "cloudsite.toml").read_text())["content_security_policy"]
    assert headers.get_all("Content-Security-Policy") == [configured]
    assert headers.get_all("X-Frame-Options") == ["DENY"]  # the project's own, not the front's
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_a_repeat_request_is_a_page_cache_hit_logged_like_any_other(site: Served) -> None:
    path = "/destinations/?page=1"
    _, first, _ = get(site.port, path, THROUGH_THE_LOAD_BALANCER)
    status, repeat, body = get(site.port, path, THROUGH_THE_LOAD_BALANCER)
    assert (status, repeat["X-Page-Cache"]) == (200, "hit")
    assert first["X-Page-Cache"] is None
    assert b"Patagonia" in body
    assert repeat["X-Request-ID"] != first["X-Request-ID"]
    for headers in (first, repeat):
        [line] = logged(site, headers["X-Request-ID"])
        assert (line["path"], line["status"]) == ("/destinations/", 200)


def test_collected_static_files_are_served_with_far_future_caching(
    site: Served, production_static: Path
) -> None:
    manifest = json.loads((production_static / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/site.css"]
    status, headers, body = get(
        site.port, f"/static/{hashed}", {**THROUGH_THE_LOAD_BALANCER, "Accept-Encoding": "br"}
    )
    assert status == 200
    assert headers["Content-Encoding"] == "br"  # the copy the build compressed
    assert body == (production_static / f"{hashed}.br").read_bytes()
    assert "immutable" in headers["Cache-Control"]
