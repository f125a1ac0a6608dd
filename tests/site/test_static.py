"""Static files: hashed, compressed (gzip and brotli), collected without a database."""

import json
from pathlib import Path

import pytest

from tests.site.production import fetch


def test_collectstatic_hashes_and_compresses_without_a_database(production_static: Path) -> None:
    manifest = json.loads((production_static / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/site.css"]
    assert hashed != "css/site.css"
    for suffix in ("", ".gz", ".br"):
        assert (production_static / (hashed + suffix)).is_file()


@pytest.fixture(scope="module")
def asset(production_static: Path) -> dict:
    manifest = json.loads((production_static / "staticfiles.json").read_text())
    url = "/static/" + manifest["paths"]["css/site.css"]
    return fetch([(url, True)], static_root=production_static)[0]


def test_hashed_static_files_get_far_future_cache_headers(asset: dict) -> None:
    assert asset["status"] == 200
    assert "max-age=315360000" in asset["headers"]["Cache-Control"]
    assert "immutable" in asset["headers"]["Cache-Control"]
