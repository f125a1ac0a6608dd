"""A project's dependency manifest, found from its files (its Python: project/python.py).

dependencies(root, ...)  which manifest the image installs from, and the files it needs:
                         requirements.txt (or the production one of requirements/*.txt),
                         pyproject.toml with uv.lock, poetry.lock or pdm.lock, or PEP 621
                         dependencies alone, Pipfile.lock; else Django from startproject's
                         header, else an error
"""

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cloudsite.errors import ProjectError

# requirements/*.txt: the file whose name says production, or else the one base file beside
# files that are clearly not for production.
_PRODUCTION = re.compile(r"^(prod|production|live|deploy|deployment|heroku|docker)$")
_NOT_PRODUCTION = re.compile(
    r"^(dev|develop|development|local|test|tests|testing|ci|lint|docs|doc|typing|mypy)$"
)
_BASE = re.compile(r"^(base|common|main|requirements|core)$")
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")


@dataclass(frozen=True)
class Dependencies:
    """What the image's build stage installs from (cloudsite.runtime.deps reads this)."""

    kind: str  # requirements | uv | poetry | pdm | pipenv | pep621 | startproject
    manifest: str  # the main file, relative to the source root ("" for startproject)
    files: tuple[str, ...]  # every file the install needs, relative to the source root
    names: frozenset[str]  # the packages it names directly, canonicalised, and name[extra]
    packages: tuple[str, ...] = ()  # pep621 and startproject: the requirements to install
    locked: bool = True  # the versions are pinned (a lock file, or == everywhere)

    def describe(self) -> str:
        locked = "" if self.locked else " (not locked: versions are resolved at build time)"
        if self.kind == "startproject":
            return f"{self.packages[0]} only, from the settings' startproject header{locked}"
        how = {
            "requirements": "pip",
            "uv": "uv export",
            "poetry": "poetry export",
            "pdm": "pdm export",
            "pipenv": "Pipfile.lock",
            "pep621": "[project].dependencies",
        }[self.kind]
        return f"{self.manifest} ({how}){locked}"


def dependencies(root: Path, *, configured: str, django_version: str) -> Dependencies:
    """The manifest to install from. `configured` is the `requirements` key ('' = detect)."""
    if configured:
        return _configured(root, configured)
    pyproject = _pyproject(root / "pyproject.toml")
    for lock, kind in (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm")):
        if pyproject is not None and (root / lock).is_file():
            return _locked_project(root, pyproject, kind=kind, lock=lock)
    if (root / "Pipfile.lock").is_file():
        return _pipfile(root)
    requirements = _requirements_file(root)
    if requirements:
        return _requirements(root, requirements)
    if pyproject is not None and pyproject.get("project", {}).get("dependencies"):
        return _pep621(pyproject)
    if django_version:
        return Dependencies(
            kind="startproject",
            manifest="",
            files=(),
            names=frozenset({"django"}),
            packages=(f"Django=={django_version}",),
        )
    raise ProjectError(
        "requirements",
        f"no dependency manifest in {root}: none of requirements.txt, requirements/*.txt, "
        "pyproject.toml with dependencies, Pipfile.lock",
        hint="add a requirements.txt naming Django and what the project imports, "
        'or set requirements = "path/to/file" in cloudsite.toml',
    )


def _configured(root: Path, path: str) -> Dependencies:
    file = root / path
    if not file.is_file():
        raise ProjectError(
            "requirements",
            f"{path}: no such file in {root}",
            hint="the path is relative to source_dir",
        )
    name = file.name
    if name in {"uv.lock", "poetry.lock", "pdm.lock"}:
        pyproject = _pyproject(file.parent / "pyproject.toml")
        if pyproject is None:
            raise ProjectError("requirements", f"{path}: no pyproject.toml beside it", hint="")
        kind = name.split(".")[0]
        return _locked_project(root, pyproject, kind=kind, lock=path)
    if name == "Pipfile.lock":
        return _pipfile(root)
    if name == "pyproject.toml":
        pyproject = _pyproject(file)
        if not pyproject or not pyproject.get("project", {}).get("dependencies"):
            raise ProjectError("requirements", f"{path}: no [project].dependencies", hint="")
        return _pep621(pyproject)
    return _requirements(root, path)


def _pyproject(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ProjectError(
            "requirements", f"{path.name} is not valid TOML: {err}", hint="fix the file's syntax"
        ) from None


def _requirements_file(root: Path) -> str:
    """requirements.txt at the root, or the production file of requirements/*.txt."""
    for name in ("requirements-prod.txt", "requirements.prod.txt", "requirements-production.txt"):
        if (root / name).is_file():
            return name
    if (root / "requirements.txt").is_file():
        return "requirements.txt"
    folder = root / "requirements"
    files = sorted(p for p in folder.glob("*.txt") if p.is_file()) if folder.is_dir() else []
    if not files:
        return ""
    stems = {p.stem.lower(): p for p in files}
    production = [p for s, p in stems.items() if _PRODUCTION.match(s)]
    if len(production) == 1:
        return f"requirements/{production[0].name}"
    base = [p for s, p in stems.items() if _BASE.match(s)]
    others = [s for s in stems if not _BASE.match(s)]
    if not production and len(base) == 1 and all(_NOT_PRODUCTION.match(s) for s in others):
        return f"requirements/{base[0].name}"
    if len(files) == 1:
        return f"requirements/{files[0].name}"
    listed = ", ".join(f"requirements/{p.name}" for p in files)
    raise ProjectError(
        "requirements",
        f"several requirements files and none is clearly the production one: {listed}",
        hint='set requirements = "requirements/production.txt" (the one the site runs with) '
        "in cloudsite.toml",
    )


def _requirements(root: Path, path: str) -> Dependencies:
    """A requirements file and the files it includes (-r, -c), recursively."""
    files: list[str] = []
    names: set[str] = set()
    pinned = True
    pending = [path]
    while pending:
        current = pending.pop()
        if current in files:
            continue
        file = root / current
        if not file.is_file():
            raise ProjectError(
                "requirements",
                f"{files[-1] if files else path} includes {current}, which does not exist",
                hint="fix the -r line, or set requirements to another file",
            )
        files.append(current)
        for raw in file.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.split(" #")[0].strip()
            if match := _INCLUDE.match(line):
                pending.append(_relative(root, file.parent / match.group(1)))
                continue
            if not line or line.startswith(("#", "-", "--")):
                continue
            if line.startswith((".", "/")) or "://" in line.split(";")[0]:
                raise ProjectError(
                    "requirements",
                    f"{current}: '{line}' installs from a path or URL, which the image's "
                    "dependency layer cannot see",
                    hint="publish it as a package, or vendor it into the project and import it",
                )
            requirement = _requirement(line.split("\\")[0].strip(), source=current)
            if requirement is not None:
                names |= named(requirement)
                pinned = pinned and any(s.operator in {"==", "==="} for s in requirement.specifier)
    return Dependencies(
        kind="requirements",
        manifest=path,
        files=tuple(sorted(files)),
        names=frozenset(names),
        locked=pinned,
    )


def named(requirement: Requirement) -> set[str]:
    """The canonical name, and name[extra] for each extra: psycopg and psycopg[c]."""
    name = canonicalize_name(requirement.name)
    return {name, *(f"{name}[{canonicalize_name(extra)}]" for extra in requirement.extras)}


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise ProjectError(
            "requirements",
            f"{path} is outside the project, so it is not shipped",
            hint="keep every requirements file inside source_dir",
        ) from None


def _requirement(text: str, *, source: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        raise ProjectError(
            "requirements", f"{source}: '{text}' is not a requirement", hint="see pip's format"
        ) from None


def _locked_project(root: Path, pyproject: dict[str, Any], *, kind: str, lock: str) -> Dependencies:
    declared = pyproject.get("project", {}).get("dependencies", [])
    names = {
        n for d in declared if (r := _requirement(d, source="pyproject.toml")) for n in named(r)
    }
    if kind == "poetry":  # Poetry before 2.0 lists them in its own table, by name
        poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
        names |= {canonicalize_name(n) for n in poetry if n.lower() != "python"}
    folder = Path(lock).parent
    files = [(folder / "pyproject.toml").as_posix(), lock]
    return Dependencies(
        kind=kind,
        manifest=lock,
        files=tuple(sorted(f.removeprefix("./") for f in files)),
        names=frozenset(names),
    )


def _pep621(pyproject: dict[str, Any]) -> Dependencies:
    declared = tuple(pyproject["project"]["dependencies"])
    requirements = [r for d in declared if (r := _requirement(d, source="pyproject.toml"))]
    return Dependencies(
        kind="pep621",
        manifest="pyproject.toml",
        files=(),
        names=frozenset(n for r in requirements for n in named(r)),
        packages=declared,
        locked=all(any(s.operator == "==" for s in r.specifier) for r in requirements),
    )


def _pipfile(root: Path) -> Dependencies:
    try:
        lock = json.loads((root / "Pipfile.lock").read_text(encoding="utf-8"))
        default = lock["default"]
    except (ValueError, KeyError, TypeError):
        raise ProjectError(
            "requirements", "Pipfile.lock is not a pipenv lock file", hint="run pipenv lock"
        ) from None
    return Dependencies(
        kind="pipenv",
        manifest="Pipfile.lock",
        files=("Pipfile.lock",),
        names=frozenset(canonicalize_name(name) for name in default),
    )
