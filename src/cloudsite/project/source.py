"""The source zip: a deterministic zip of the project's tree, which `up` and `deploy` upload
(cloudsite.aws.ship) and `cloudsite build` unpacks (docs/interfaces.md, section 2).

The same tree always gives the same bytes: entries sorted, timestamps fixed at 1980-01-01,
modes reduced to 0644/0755, the system fixed to Unix. Files that `.gitignore` (any folder) or
the root `.dockerignore` exclude are left out, and so are `.git` and the project's own
`.cloudsite/` (local state and ejected files): the runtime layer is added as `extra` entries
under `.cloudsite/` instead (cloudsite.project.shipment).
"""

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cloudsite.project import ignore

FIXED_TIME: Final = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can record
ALWAYS_SKIPPED: Final = frozenset({".git"})
RESERVED: Final = ".cloudsite"  # at the root only: the runtime layer's folder in the zip


@dataclass(frozen=True)
class Package:
    data: bytes
    files: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def package_files(root: Path) -> list[tuple[str, Path]]:
    """(path in the zip, file on disk) for every file to ship, sorted by zip path."""
    docker_file = root / ".dockerignore"
    docker = ignore.dockerignore_rules(docker_file.read_text()) if docker_file.is_file() else []
    can_reinclude = any(rule.negate for rule in docker)
    found: list[tuple[str, Path]] = []
    _walk(root, "", git=[], docker=docker, reinclude=can_reinclude, found=found)
    return sorted(found)


def _walk(
    folder: Path,
    prefix: str,
    *,
    git: list[tuple[str, list[ignore.Rule]]],
    docker: list[ignore.Rule],
    reinclude: bool,
    found: list[tuple[str, Path]],
) -> None:
    gitignore = folder / ".gitignore"
    if gitignore.is_file():
        git = [*git, (prefix, ignore.gitignore_rules(gitignore.read_text(errors="replace")))]
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name in ALWAYS_SKIPPED or (not prefix and entry.name == RESERVED):
            continue
        rel = prefix + entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if entry.is_symlink() and is_dir:
            continue  # a linked folder could loop or leave the tree
        if _git_ignored(git, rel, is_dir=is_dir):
            continue  # git cannot re-include anything below an ignored folder
        docker_ignored = ignore.decide(docker, rel, is_dir=is_dir)
        if is_dir:
            if docker_ignored and not reinclude:
                continue
            _walk(
                Path(entry.path),
                rel + "/",
                git=git,
                docker=docker,
                reinclude=reinclude,
                found=found,
            )
        elif not docker_ignored and entry.is_file():
            found.append((rel, Path(entry.path)))


def _git_ignored(git: list[tuple[str, list[ignore.Rule]]], rel: str, *, is_dir: bool) -> bool:
    ignored = False
    for base, rules in git:  # outer folders first, so deeper files override them
        ignored = ignore.decide(rules, rel[len(base) :], is_dir=is_dir, current=ignored)
    return ignored


def package_build(root: Path, *, extra: Mapping[str, tuple[bytes, bool]] | None = None) -> Package:
    """The zip of `root`, byte for byte the same for the same tree; `extra` adds entries
    {path in the zip: (content, executable)} that are not in the tree."""
    entries: dict[str, tuple[bytes, bool]] = {
        name: (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
        for name, path in package_files(root)
    }
    entries.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            data, executable = entries[name]
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so the modes below are honoured by unzip
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return Package(data=buffer.getvalue(), files=tuple(sorted(entries)))
