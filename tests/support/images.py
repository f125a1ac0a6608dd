"""Projects as releases, and images built from them the way `cloudsite up` and CodeBuild do:
the source zip packaged by the CLI, unpacked, and its own .cloudsite/runtime/build.py run.

A release is a copy of a project (Wanderpage by default) with a marker file the tests can read
over HTTP (/static/cstest-release.txt), and optionally a defect.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from cloudsite.project.detect import detect
from cloudsite.project.image import unpack
from cloudsite.project.keys import keys
from cloudsite.project.shipment import extra_entries
from cloudsite.project.source import package_build
from tests.support.engine import Engine
from tests.support.layer import WANDERPAGE, project_config

# What neither the source zip nor the image contains.
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".cloudsite", "__pycache__", "*.pyc", "staticfiles", "db.sqlite3",
)  # fmt: skip

MARKER = "static/cstest-release.txt"
# Appended to the WSGI module of a broken release: it builds (the build's checks pass), but
# gunicorn (preload_app) cannot start it, so the container never answers /healthz; like a
# release whose failure shows only at run time (a setting that only production has).
DEFECT = """
if os.environ.get("CLOUDSITE_PHASE") != "build":
    raise RuntimeError("cstest: this release cannot start")
"""


def source_tree(
    dest: Path, *, release: str, broken: bool = False, project: Path = WANDERPAGE
) -> Path:
    """Copy the project to dest as `release`; returns dest."""
    shutil.copytree(project, dest, ignore=_IGNORE, symlinks=True)
    (dest / MARKER).write_text(f"{release}\n")
    if broken:
        with open(dest / "config" / "wsgi.py", "a") as wsgi:
            wsgi.write(DEFECT)
    return dest


def shipped(source: Path, dest: Path) -> Path:
    """The tree CodeBuild unpacks from the zip `cloudsite up` would upload for `source`."""
    cfg = project_config(source)
    project = detect(cfg.source_path, keys(cfg))
    package = package_build(project.root, extra=extra_entries(project, cfg))
    unpack(package.data, dest)
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
    """Run the shipped tree's build.py; returns what it prints (the tag, or URI@digest)."""
    with tempfile.TemporaryDirectory(prefix="cstest-shipped-") as tmp:
        tree = shipped(source, Path(tmp))
        argv = ["python3", str(tree / ".cloudsite" / "runtime" / "build.py"), "--image", image]
        argv += ["--revision", revision] if revision else []
        argv += ["--push"] if push else []
        argv += ["--bundle", str(bundle)] if bundle else []
        argv += ["--no-cache"] if no_cache else []
        result = subprocess.run(
            argv, env=engine.script_env(**env), capture_output=True, text=True, timeout=900,
            check=False, cwd=tree,
        )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"build.py exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]
