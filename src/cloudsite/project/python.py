"""The Python a project asks for, found from its files, checked against the ones an image can
be built with (runtime/pythons.toml).

    choose(root, configured=...)   a PythonChoice: the version, which file asked, the warnings

Where a project says it, most specific first:

    exact     .python-version, runtime.txt, .tool-versions, Pipfile.lock's python_version,
              Pipfile's [requires]
    a range   pyproject.toml's requires-python, uv.lock's requires-python, Poetry's
              [tool.poetry.dependencies] python

An exact pin names the version; every range must admit it. With ranges alone, the default
version is taken when they admit it, else the supported version nearest to it. Two exact pins
that disagree, a range that refuses the exact pin, and a version cloudsite cannot build are
errors naming the files; an odd finding (a pyenv environment's name in .python-version, a
version past its end of life) is a warning, and the file is not refused.
"""

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from cloudsite.errors import ProjectError
from cloudsite.runtime import pythons

SUPPORTED: Final = tuple(pythons.table())  # oldest first
DEFAULT: Final = pythons.DEFAULT
VERSION: Final = re.compile(r"(?:cpython-|python-?)?(\d+)\.(\d+)(?:\.\d+)?(?:[a-z]+\d*)?")


@dataclass(frozen=True)
class PythonChoice:
    version: str  # one of SUPPORTED
    source: str  # the file that asked for it, "python_version", or "default"
    asked: str  # what it asked for, as written
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Exact:
    source: str  # the file
    asked: str  # as written there
    version: str  # its minor version, "3.12"


@dataclass(frozen=True)
class _Range:
    source: str
    asked: str
    admits: SpecifierSet


def choose(root: Path, *, configured: str, today: date | None = None) -> PythonChoice:
    """The Python to build with; see the module docstring."""
    exact, ranges, notes = _pins(root)
    if configured:
        if configured not in SUPPORTED:
            raise ProjectError(
                "python_version",
                f"'{configured}' is not a Python cloudsite builds ({_listed()})",
                hint=f'set python_version = "{DEFAULT}", or one of the others',
            )
        asked: list[_Exact | _Range] = [p for p in exact if p.version != configured]
        asked += [p for p in ranges if not _admits(p.admits, configured)]
        notes += [
            f"python_version = {configured} in cloudsite.toml overrides {p.source} ({p.asked})"
            for p in asked
        ]
        return _choice(configured, "python_version", configured, notes, today)
    for pin in exact:
        if pin.version not in SUPPORTED:
            raise ProjectError(
                "python_version",
                f"{pin.source} asks for Python {pin.asked}, and cloudsite builds {_listed()}",
                hint=f"pin one of those in {pin.source} (the project must run on it)",
            )
    if exact:
        first = exact[0]
        for other in exact[1:]:
            if other.version != first.version:
                raise ProjectError(
                    "python_version",
                    f"{first.source} asks for Python {first.asked} and {other.source} for "
                    f"{other.asked}",
                    hint="make the two files agree on one version",
                )
        for span in ranges:
            if not _admits(span.admits, first.version):
                raise ProjectError(
                    "python_version",
                    f"{first.source} asks for Python {first.asked} and {span.source} for "
                    f"{span.asked}, which excludes it",
                    hint="make the two files agree on one version",
                )
        return _choice(first.version, first.source, first.asked, notes, today)
    if ranges:
        admitted = [v for v in SUPPORTED if all(_admits(p.admits, v) for p in ranges)]
        sources = " and ".join(f"{p.source} ({p.asked})" for p in ranges)
        if not admitted:
            raise ProjectError(
                "python_version",
                f"{sources} admit{'s' if len(ranges) == 1 else ''} none of the Pythons cloudsite "
                f"builds ({_listed()})",
                hint="widen the range to one of those (the project must run on it)",
            )
        version = min(admitted, key=_distance)
        return _choice(version, ranges[0].source, ranges[0].asked, notes, today)
    return _choice(DEFAULT, "default", "", notes, today)


def _choice(
    version: str, source: str, asked: str, notes: list[str], today: date | None
) -> PythonChoice:
    end = pythons.table()[version].end_of_life
    year, month = map(int, end.split("-"))
    if (today or date.today()) >= date(year + (month == 12), month % 12 + 1, 1):
        notes = [
            *notes,
            f"Python {version} reached its end of life in {end}: no more security fixes "
            f'(python_version = "{DEFAULT}" in cloudsite.toml, once the project runs on it)',
        ]
    return PythonChoice(version, source, asked, tuple(notes))


def _distance(version: str) -> tuple[int, int]:
    """Nearest to the default first; of two as near, the newer."""
    minor, default = int(version.split(".")[1]), int(DEFAULT.split(".")[1])
    return abs(minor - default), -minor


def _admits(specifier: SpecifierSet, version: str) -> bool:
    return specifier.contains(f"{version}.0", prereleases=True) or specifier.contains(
        f"{version}.99", prereleases=True
    )


def _listed() -> str:
    return ", ".join(SUPPORTED)


def _pins(root: Path) -> tuple[list[_Exact], list[_Range], list[str]]:
    """(exact pins, ranges, warnings), most specific first."""
    exact: list[_Exact] = []
    ranges: list[_Range] = []
    notes: list[str] = []

    def version(source: str, text: str) -> None:
        text = text.strip()
        match = VERSION.fullmatch(text)
        if match:
            shown = re.sub(r"^(cpython-|python-?)", "", text)
            exact.append(_Exact(source, shown, f"{match.group(1)}.{match.group(2)}"))
        elif text:
            notes.append(
                f"{source} says '{text}', which names no CPython version: it is ignored "
                '(python_version = "3.X" in cloudsite.toml settles it)'
            )

    def specifier(source: str, text: str) -> None:
        try:
            ranges.append(_Range(source, text, SpecifierSet(_pep440(text))))
        except InvalidSpecifier:
            notes.append(
                f"{source} says '{text}', which is not a version range: it is ignored "
                '(python_version = "3.X" in cloudsite.toml settles it)'
            )

    version_file = root / ".python-version"
    if version_file.is_file():
        lines = [line.strip() for line in _text(version_file).splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        if lines:
            version(".python-version", lines[0])
    runtime = root / "runtime.txt"
    if runtime.is_file():
        version("runtime.txt", _text(runtime).strip())
    tools = root / ".tool-versions"
    if tools.is_file():
        for line in _text(tools).splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "python":
                version(".tool-versions", parts[1])
    lock_meta = (_json(root / "Pipfile.lock") or {}).get("_meta", {})
    for source, requires in (
        ("Pipfile.lock", lock_meta.get("requires", {})),
        ("Pipfile", (_toml(root / "Pipfile") or {}).get("requires", {})),
    ):
        asked = requires.get("python_full_version") or requires.get("python_version")
        if asked:
            version(source, str(asked))
            break
    pyproject = _toml(root / "pyproject.toml") or {}
    if requires_python := pyproject.get("project", {}).get("requires-python"):
        specifier("pyproject.toml requires-python", str(requires_python))
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
    if isinstance(poetry, str) and poetry.strip():
        specifier("pyproject.toml [tool.poetry.dependencies] python", poetry)
    lock = _toml(root / "uv.lock")
    if lock and isinstance(lock.get("requires-python"), str):
        specifier("uv.lock requires-python", lock["requires-python"])
    return exact, ranges, notes


def _pep440(text: str) -> str:
    """Poetry's constraints (^3.11, ~3.11, 3.11.*, a || b) as a PEP 440 specifier; a PEP 440
    one as it is. Of alternatives, the first."""
    text = text.split("||")[0].strip()
    parts = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text):
        if m := re.fullmatch(r"\^(\d+)(?:\.(\d+))?(?:\.\d+)?", part):
            major = int(m.group(1))
            parts += [f">={major}.{m.group(2) or 0}", f"<{major + 1}"]
        elif m := re.fullmatch(r"~(\d+)\.(\d+)(?:\.\d+)?", part):
            parts += [f">={m.group(1)}.{m.group(2)}", f"<{m.group(1)}.{int(m.group(2)) + 1}"]
        elif re.fullmatch(r"\d+\.\d+(\.\d+)?(\.\*)?", part):
            parts.append(f"=={part}")
        elif part and part != "*":
            parts.append(part)
    return ",".join(parts)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _toml(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError:
        return None  # the manifests' own checks say what is wrong with it


def _json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        found = json.loads(_text(path))
    except json.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None
