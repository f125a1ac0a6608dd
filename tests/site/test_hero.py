"""The home page's hero: AVIF and WebP sources with a JPEG fallback, each candidate a real file
of the width it declares, a matching preload, and files rendered from the current SVG."""

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "examples" / "wanderpage" / "static"
SCRIPT = ROOT / "scripts" / "render_hero.py"
TYPES = {"image/avif": ".avif", "image/webp": ".webp"}


class _HeroTags(HTMLParser):
    """Collects the attributes of the hero's <source>, <img> and <link rel=preload> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.preloads: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "source":
            self.sources.append(found)
        elif tag == "img" and "hero-image" in found.get("class", ""):
            self.images.append(found)
        elif tag == "link" and found.get("rel") == "preload":
            self.preloads.append(found)


def _candidates(srcset: str) -> list[tuple[Path, int]]:
    """(file under the site's static/, declared width) for each candidate of a srcset."""
    out = []
    for candidate in srcset.split(","):
        url, descriptor = candidate.split()
        assert url.startswith("/static/") and descriptor.endswith("w")
        out.append((STATIC / url.removeprefix("/static/"), int(descriptor[:-1])))
    return out


@pytest.fixture
def hero(client: Client) -> _HeroTags:
    tags = _HeroTags()
    tags.feed(client.get("/").content.decode())
    return tags


@pytest.mark.django_db
def test_sources_offer_avif_then_webp_with_candidates_of_their_declared_width(
    hero: _HeroTags,
) -> None:
    assert [s["type"] for s in hero.sources] == ["image/avif", "image/webp"]
    for source in hero.sources:
        candidates = _candidates(source["srcset"])
        assert len(candidates) >= 3
        for path, width in candidates:
            assert path.suffix == TYPES[source["type"]]
            with Image.open(path) as image:
                assert image.size == (width, width * 9 // 16), path.name


@pytest.mark.django_db
def test_jpeg_fallback_has_explicit_dimensions_matching_its_file(hero: _HeroTags) -> None:
    [img] = hero.images
    assert img["alt"]
    with Image.open(STATIC / img["src"].removeprefix("/static/")) as fallback:
        assert fallback.format == "JPEG"
        assert fallback.size == (int(img["width"]), int(img["height"]))
    for path, width in _candidates(img["srcset"]):
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.width == width
    # Every format offers the same widths, with the same sizes.
    widths = {tuple(w for _, w in _candidates(s["srcset"])) for s in [*hero.sources, img]}
    assert len(widths) == 1
    assert {s["sizes"] for s in [*hero.sources, img]} == {img["sizes"]}


@pytest.mark.django_db
def test_preload_names_the_same_candidates_as_the_avif_source(hero: _HeroTags) -> None:
    [preload] = hero.preloads
    avif = hero.sources[0]
    assert preload["as"] == "image"
    assert preload["type"] == "image/avif"
    assert preload["imagesrcset"] == avif["srcset"]
    assert preload["imagesizes"] == avif["sizes"]
    assert preload["fetchpriority"] == "high"


def test_committed_files_are_rendered_from_the_current_svg() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_check_fails_with_a_hint_when_the_svg_changes_without_a_render(tmp_path: Path) -> None:
    # A copy of the script and the images, so the real tree is never touched.
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    copy = tmp_path / STATIC.relative_to(ROOT) / "img"
    shutil.copytree(STATIC / "img", copy)
    svg = copy / "hero.svg"
    svg.write_text(svg.read_text().replace("#1d3557", "#ff0000"))
    (copy / "hero" / "hero-640.webp").unlink()
    result = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "render_hero.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: hero images: hero.svg changed since the files were rendered")
    assert "hero-640.webp is missing" in error
    assert "differs from the SVG" in error  # the red sky no longer matches the pixels
    assert hint.startswith("hint: run ")
