"""The source zip: a deterministic zip of the project's tree, which `up` and `deploy` upload
(cloudsite.aws.ship) and `cloudsite build` unpacks (docs/interfaces.md, section 2).

The same tree always gives the same bytes: entries sorted, timestamps fixed at 1980-01-01,
modes reduced to 0644/0755, the system fixed to Unix. Files that `.gitignore` (any folder) or
the root `.dockerignore` exclude are left out, and so are `.git` and the project's own
`.cloudsite/` (local state and ejected files): the runtime layer is added as `extra` entries
under `.cloudsite/` instead (cloudsite.project.shipment).

Nothing leaves the project by accident:
- a symlink to a file or folder inside the tree is stored as what it points to (a link back
  to a folder that holds it is left out: it would loop); a symlink that points outside the
  tree is refused, never followed;
- a file that is almost always a secret (SECRET_FILES: `.env`, keys, credentials, SQLite
  databases) is refused unless `include_files` names it, at any depth, before any upload.
"""

import fnmatch
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cloudsite.errors import ProjectError
from cloudsite.project import ignore

FIXED_TIME: Final = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can record
ALWAYS_SKIPPED: Final = frozenset({".git"})
RESERVED: Final = ".cloudsite"  # at the root only: the runtime layer's folder in the zip
# Files that are almost always secrets (name patterns, matched at any depth), each with what it
# usually is. Templates of them (.env.example) are fine.
SECRET_FILES: Final = (
    (".env", "an environment file"),
    (".env.*", "an environment file"),
    ("*.pem", "a key or certificate"),
    ("*.key", "a private key"),
    ("*.p12", "a key store"),
    ("id_rsa*", "an SSH key"),
    ("id_dsa*", "an SSH key"),
    ("id_ecdsa*", "an SSH key"),
    ("id_ed25519*", "an SSH key"),
    ("*.sqlite3", "a database"),
    ("*.sqlite", "a database"),
    (".git-credentials", "git credentials"),
    (".netrc", "credentials"),
    (".npmrc", "a registry token"),
    (".pypirc", "a registry token"),
    ("*.tfstate", "Terraform state, with its secrets"),
    ("*.tfstate.*", "Terraform state"),
    ("credentials", "AWS credentials, under .aws/"),
)
SECRET_FOLDERS: Final = frozenset({".aws", ".ssh", ".gnupg"})
TEMPLATES: Final = (".example", ".sample", ".template", ".dist", ".pub")


@dataclass(frozen=True)
class Package:
    data: bytes
    files: tuple[str, ...]
    sizes: tuple[int, ...] = ()  # each file's size, in the order of `files`
    links: tuple[str, ...] = ()  # "LINK -> TARGET" for each symlink stored as what it points to

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def largest(self, count: int = 3) -> list[tuple[str, int]]:
        """The project's own largest files (the runtime layer under .cloudsite/ is cloudsite's,
        the same for every project)."""
        own = [
            (n, s)
            for n, s in zip(self.files, self.sizes, strict=True)
            if not n.startswith(RESERVED + "/")
        ]
        return sorted(own, key=lambda f: (-f[1], f[0]))[:count]


@dataclass
class _Walk:
    root: Path
    docker: list[ignore.Rule]
    reinclude: bool
    found: list[tuple[str, Path]]
    seen: set[Path]  # the folders being walked, by real path: a link back up cannot loop
    outside: list[str]  # symlinks that point out of the tree


def package_files(root: Path, *, include: tuple[str, ...] = ()) -> list[tuple[str, Path]]:
    """(path in the zip, file on disk) for every file to ship, sorted by zip path; a
    ProjectError for a symlink out of the tree or a secret-looking file not in `include`."""
    root = root.resolve()
    docker_file = root / ".dockerignore"
    docker = ignore.dockerignore_rules(docker_file.read_text()) if docker_file.is_file() else []
    walk = _Walk(root, docker, any(r.negate for r in docker), [], {root}, [])
    _walk(walk, root, "", git=[])
    if walk.outside:
        raise ProjectError(
            "source_dir",
            f"{walk.outside[0]} is a symlink out of the project"
            + (f" (and {len(walk.outside) - 1} more)" if len(walk.outside) > 1 else "")
            + ": cloudsite never follows one",
            hint="copy what it points to into the project, or leave it out in .gitignore or "
            ".dockerignore",
        )
    secrets = [
        (rel, why) for rel, _ in walk.found if (why := secret_file(rel)) and rel not in include
    ]
    if secrets:
        rel, why = secrets[0]
        more = f" (and {len(secrets) - 1} more)" if len(secrets) > 1 else ""
        raise ProjectError(
            "include_files",
            f"{rel} looks like {why}{more}: cloudsite does not upload it unless told",
            hint="leave it out in .gitignore or .dockerignore, or ship it on purpose with "
            f'include_files = ["{rel}"] in cloudsite.toml',
        )
    return sorted(walk.found)


def secret_file(rel: str) -> str:
    """What a file of this path usually is when it is a secret, or ''."""
    parts = rel.split("/")
    name = parts[-1]
    if set(parts[:-1]) & SECRET_FOLDERS:
        return f"a file of {next(p for p in parts if p in SECRET_FOLDERS)}/"
    if name.endswith(TEMPLATES):
        return ""
    for pattern, why in SECRET_FILES:
        if fnmatch.fnmatchcase(name, pattern) and (pattern != "credentials" or ".aws" in parts):
            return why
    return ""


def _walk(
    walk: _Walk, folder: Path, prefix: str, *, git: list[tuple[str, list[ignore.Rule]]]
) -> None:
    gitignore = folder / ".gitignore"
    if gitignore.is_file():
        git = [*git, (prefix, ignore.gitignore_rules(gitignore.read_text(errors="replace")))]
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name in ALWAYS_SKIPPED or (not prefix and entry.name == RESERVED):
            continue
        rel = prefix + entry.name
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=True)
        if _git_ignored(git, rel, is_dir=is_dir):
            continue  # git cannot re-include anything below an ignored folder
        docker_ignored = ignore.decide(walk.docker, rel, is_dir=is_dir)
        if docker_ignored and not (is_dir and walk.reinclude):
            continue
        if entry.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(walk.root):
                walk.outside.append(f"{rel} -> {os.readlink(path)}")
                continue
            path = target  # inside the tree: stored as what it points to
        if is_dir:
            if entry.is_symlink() and path in walk.seen:
                continue  # a link to a folder being walked (an ancestor) would loop
            walk.seen.add(path)
            _walk(walk, path, rel + "/", git=git)
            walk.seen.discard(path)
        elif not docker_ignored and path.is_file():
            walk.found.append((rel, path))


def _git_ignored(git: list[tuple[str, list[ignore.Rule]]], rel: str, *, is_dir: bool) -> bool:
    ignored = False
    for base, rules in git:  # outer folders first, so deeper files override them
        ignored = ignore.decide(rules, rel[len(base) :], is_dir=is_dir, current=ignored)
    return ignored


def package_build(
    root: Path,
    *,
    extra: Mapping[str, tuple[bytes, bool]] | None = None,
    include: tuple[str, ...] = (),
) -> Package:
    """The zip of `root`, byte for byte the same for the same tree; `extra` adds entries
    {path in the zip: (content, executable)} that are not in the tree, `include` names
    secret-looking files to ship on purpose."""
    entries: dict[str, tuple[bytes, bool]] = {
        name: (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
        for name, path in package_files(root, include=include)
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
    names = tuple(sorted(entries))
    sizes = tuple(len(entries[n][0]) for n in names)
    return Package(buffer.getvalue(), names, sizes, _links(root, names))


def _links(root: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """The outermost symlink on each shipped file's path, as "LINK -> TARGET"."""
    links: dict[str, str] = {}
    for name in names:
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            rel = "/".join(parts[:depth])
            if rel in links:
                break
            if (root / rel).is_symlink():
                links[rel] = os.readlink(root / rel)
                break
    return tuple(f"{link} -> {target}" for link, target in sorted(links.items()))
