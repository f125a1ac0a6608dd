"""Source trees of the site, as releases, and builds of them through site/bin/build.

A release is a copy of this working tree (what `cloudsite up` would zip) with a marker file
the tests can read over HTTP (/static/cstest-release.txt), and optionally a defect.
"""

import shutil
import subprocess
from pathlib import Path

from tests.support.engine import Engine
from tests.support.servers import ROOT

# What neither the source zip nor the image contains (compare .dockerignore).
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", ".cache", "__pycache__", "*.pyc", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", "node_modules", "staticfiles", "db.sqlite3", "dist",
    "test-artifacts",
)  # fmt: skip

MARKER = "static/cstest-release.txt"
# Appended to the WSGI module of a broken release: gunicorn (preload_app) cannot start it,
# so the container never answers /healthz.
DEFECT = '\nraise RuntimeError("cstest: this release cannot start")\n'


def source_tree(dest: Path, *, release: str, broken: bool = False) -> Path:
    """Copy the working tree to dest as `release`; returns dest."""
    shutil.copytree(ROOT, dest, ignore=_IGNORE, symlinks=True)
    (dest / "site" / MARKER).write_text(f"{release}\n")
    if broken:
        with open(dest / "site" / "config" / "wsgi.py", "a") as wsgi:
            wsgi.write(DEFECT)
    return dest


def build(
    engine: Engine,
    source: Path,
    *,
    image: str,
    env: dict[str, str],
    push: bool = False,
    bundle: Path | None = None,
    revision: str = "",
    no_cache: bool = False,
) -> str:
    """Run source/site/bin/build; returns what it prints (the tag, or the pushed URI@digest)."""
    argv = [str(source / "site" / "bin" / "build"), "--image", image]
    if revision:
        argv += ["--revision", revision]
    if push:
        argv.append("--push")
    if bundle:
        argv += ["--bundle", str(bundle)]
    if no_cache:
        argv.append("--no-cache")
    result = subprocess.run(
        argv, env=engine.script_env(**env), capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"site/bin/build exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]
