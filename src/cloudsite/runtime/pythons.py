"""The Pythons an image can be built with, and each one's base image: pythons.toml, read.

    table()                    {"3.13": Python(...), ...}, oldest first
    DEFAULT                    the version a project that asks for none gets
    base_image(version, env)   the base this build uses, and where that choice came from

The standard library only: build.py imports it on CodeBuild, beside it in the source zip.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().with_name("pythons.toml")


@dataclass(frozen=True)
class Python:
    version: str  # "3.14"
    image: str  # the pinned base: NAME:TAG@sha256:DIGEST
    interpreter: str  # "debian" (from the base's archive) or "image" (the base's own)
    end_of_life: str  # "2030-10"
    stand_in: str  # the Debian suite of this machine's offline stand-in, or ""
    pinned: str  # when and where the digest was taken

    @property
    def variable(self) -> str:
        """The environment variable that names a local base for this version."""
        return "BASE_IMAGE_" + self.version.replace(".", "_")

    @property
    def tag(self) -> str:
        """The image without its digest, e.g. python:3.14-slim-trixie."""
        return self.image.split("@")[0].rsplit("/", 1)[-1]


@cache
def _load() -> tuple[str, dict[str, Python]]:
    data = tomllib.loads(TABLE.read_text())
    versions = {
        version: Python(version=version, **fields)
        for version, fields in sorted(
            data["versions"].items(), key=lambda item: tuple(map(int, item[0].split(".")))
        )
    }
    return data["default"], versions


def table() -> dict[str, Python]:
    return _load()[1]


DEFAULT = _load()[0]


def base_image(version: str, env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(image, source): $BASE_IMAGE_3_X when set; for the default version, $BASE_IMAGE (the
    name it always had); else the table's pin."""
    python = table()[version]
    if env.get(python.variable):
        return env[python.variable], python.variable
    if version == DEFAULT and env.get("BASE_IMAGE"):
        return env["BASE_IMAGE"], "BASE_IMAGE"
    return python.image, "pinned"
