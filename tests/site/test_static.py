"""Static files: hashed, compressed (gzip and brotli), collected without a database (through
the runtime layer's build phase), served by the project's own whitenoise."""

import json
import shutil
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
def asset(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> dict:
    manifest = json.loads((production_static / "staticfiles.json").read_text())
    url = "/static/" + manifest["paths"]["css/site.css"]
    return fetch(tmp_path_factory.mktemp("static"), [(url, True)], static_root=production_static)[0]


def test_hashed_static_files_get_far_future_cache_headers(asset: dict) -> None:
    assert asset["status"] == 200
    assert "max-age=315360000" in asset["headers"]["Cache-Control"]
    assert "immutable" in asset["headers"]["Cache-Control"]


def test_static_files_are_served_from_where_the_build_collected_them(
    tmp_path: Path, production_static: Path
) -> None:
    # The layer moves STATIC_ROOT into the image (here CLOUDSITE_STATIC_ROOT), whatever the
    # project's settings say; a file only that folder holds proves which one is served.
    collected = tmp_path / "collected"
    shutil.copytree(production_static, collected)
    (collected / "only-here.txt").write_text("collected by the build\n")
    [page] = fetch(tmp_path / "run", [("/static/only-here.txt", True)], static_root=collected)
    assert (page["status"], page["body"]) == (200, "collected by the build\n")
