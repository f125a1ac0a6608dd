#!/usr/bin/env python3
"""Renders the hero landscape (examples/wanderpage/static/img/hero.svg) to AVIF, WebP and JPEG
at several widths, for the home page's <picture>. The SVG is the source; the raster files are
committed.

    .venv/bin/python scripts/render_hero.py           render every file and the manifest
    .venv/bin/python scripts/render_hero.py --check   exit 1 when the files are out of date

Why raster files at all: browsers pick the LCP candidate from <picture> sources, and a photo
replacing the drawing later needs exactly this pipeline. resvg (through resvg-py) rasterises
without a system library; Pillow encodes (its wheels bundle libavif, libwebp, libjpeg-turbo).

--check proves the committed files depict the current SVG: the manifest records the SVG's
sha256, and each file's pixels are compared with a fresh rendering (a tolerance, not a byte
comparison, so an encoder build that differs by a bit on another CPU does not fail it).
"""

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

import resvg_py
from PIL import Image, ImageChops, ImageStat

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "examples" / "wanderpage" / "static"
SOURCE = STATIC / "img" / "hero.svg"
OUT = STATIC / "img" / "hero"
# collectstatic skips dotfiles, so the manifest is never published.
MANIFEST = OUT / ".manifest.json"
WIDTHS = (640, 1280, 1920, 2560)
ASPECT = (16, 9)  # the SVG's viewBox, 1920 x 1080
# Settings chosen by eye on the flat colours and gradients of the drawing: lower qualities
# band the sky. AVIF at speed 4 is slow (seconds per file) but a third smaller than speed 8.
ENCODERS: dict[str, dict[str, object]] = {
    "avif": {"format": "AVIF", "quality": 55, "speed": 4},
    "webp": {"format": "WEBP", "quality": 78, "method": 6},
    "jpg": {"format": "JPEG", "quality": 80, "optimize": True, "progressive": True},
}
# Mean absolute difference per channel (0-255) a re-rendering may show against a file.
TOLERANCE = 3.0


def height_for(width: int) -> int:
    return width * ASPECT[1] // ASPECT[0]


def file_name(width: int, extension: str) -> str:
    return f"hero-{width}.{extension}"


def render(*, width: int) -> Image.Image:
    """The SVG rasterised at width x height_for(width), as RGB."""
    png = resvg_py.svg_to_bytes(svg_path=str(SOURCE), width=width, height=height_for(width))
    return Image.open(io.BytesIO(bytes(png))).convert("RGB")


def encode(image: Image.Image, *, extension: str) -> bytes:
    options = dict(ENCODERS[extension])
    buffer = io.BytesIO()
    image.save(buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def source_digest() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def write_all() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files: dict[str, int] = {}
    for width in WIDTHS:
        image = render(width=width)
        for extension in ENCODERS:
            data = encode(image, extension=extension)
            (OUT / file_name(width, extension)).write_bytes(data)
            files[file_name(width, extension)] = len(data)
            sys.stderr.write(f"{file_name(width, extension):16} {len(data):7} bytes\n")
    manifest = {
        "source": SOURCE.name,
        "source_sha256": source_digest(),
        "widths": list(WIDTHS),
        "encoders": ENCODERS,
        "bytes": files,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


def problems() -> list[str]:
    """Everything that makes the committed files disagree with the SVG and this script."""
    if not MANIFEST.is_file():
        return [f"{MANIFEST.relative_to(ROOT)} is missing"]
    manifest = json.loads(MANIFEST.read_text())
    found = []
    if manifest["source_sha256"] != source_digest():
        found.append(f"{SOURCE.name} changed since the files were rendered")
    if manifest["widths"] != list(WIDTHS) or manifest["encoders"] != ENCODERS:
        found.append("the widths or encoder settings changed since the files were rendered")
    for width in WIDTHS:
        fresh = render(width=width)
        for extension in ENCODERS:
            found += _file_problems(OUT / file_name(width, extension), expected=fresh)
    return found


def _file_problems(path: Path, *, expected: Image.Image) -> list[str]:
    if not path.is_file():
        return [f"{path.name} is missing"]
    with Image.open(path) as image:
        if image.size != expected.size:
            return [f"{path.name} is {image.size}, expected {expected.size}"]
        difference = ImageChops.difference(image.convert("RGB"), expected)
        mean = sum(ImageStat.Stat(difference).mean) / 3
    if mean > TOLERANCE:
        return [f"{path.name} differs from the SVG (mean difference {mean:.1f} > {TOLERANCE})"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of rendering")
    args = parser.parse_args()
    if not args.check:
        write_all()
        return 0
    found = problems()
    if found:
        sys.stderr.write(f"error: hero images: {'; '.join(found)}\n")
        sys.stderr.write("hint: run .venv/bin/python scripts/render_hero.py and commit the files\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
