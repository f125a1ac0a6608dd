"""Real Django projects this repository did not write, for the tests (tests/corpus/README.md):

startproject(dest)      Django's own `django-admin startproject` layout, generated here by
                        the Django the dev lock pins; `stable=True` fixes its random key so
                        the tree (and a source zip of it) is the same in every run
wagtail_start(dest)     `wagtail start`, Wagtail's project template, from a pinned release
                        installed from PyPI into a cached virtualenv
vendored(name, dest)    a copy of tests/corpus/NAME (each with its licence and provenance)
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tests.support.servers import ROOT

if TYPE_CHECKING:
    from tests.support.engine import Engine

CORPUS: Final = ROOT / "tests" / "corpus"
WAGTAIL: Final = "wagtail==7.2.3"  # the last release whose template pins Django 5.2
_KEY: Final = re.compile(r"SECRET_KEY = '(django-insecure-[^']+)'")


def startproject(dest: Path, *, name: str = "mysite", stable: bool = False) -> Path:
    """`django-admin startproject NAME DEST`; returns dest."""
    dest.mkdir(parents=True, exist_ok=True)
    admin = Path(sys.executable).parent / "django-admin"
    subprocess.run([str(admin), "startproject", name, str(dest)], check=True, timeout=60)
    if stable:
        settings = dest / name / "settings.py"
        settings.write_text(
            _KEY.sub("SECRET_KEY = 'django-insecure-cstest-fixed'", settings.read_text())
        )
    return dest


def wagtail_start(dest: Path, *, name: str = "mysite") -> Path:
    """`wagtail start NAME DEST` with WAGTAIL; returns dest."""
    venv = ROOT / ".cache" / "corpus" / WAGTAIL.replace("==", "-")
    if not (venv / "bin" / "wagtail").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", WAGTAIL], check=True, timeout=900
        )
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(venv / "bin" / "wagtail"), "start", name, str(dest)], check=True, timeout=120
    )
    return dest


def vendored(name: str, dest: Path) -> Path:
    """A copy of tests/corpus/NAME at dest (the tests may change their copy)."""
    shutil.copytree(CORPUS / name, dest, symlinks=True)
    return dest


def uv_lock(dest: Path) -> Path:
    """`uv lock` in dest, with an interpreter that meets the project's requires-python; returns
    dest. uv needs one to resolve; this machine's pyenv has them, none is downloaded."""
    import os
    import tomllib

    from packaging.specifiers import SpecifierSet

    from tests.conftest import require

    wanted = SpecifierSet(
        tomllib.loads((dest / "pyproject.toml").read_text())["project"].get("requires-python", "")
    )
    found = [
        python
        for python in sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob("3.*/bin/python3"))
        if python.parent.parent.name in wanted
    ]
    require(bool(found), f"a Python meeting {wanted} for `uv lock` (pyenv)")
    env = dict(os.environ, UV_PYTHON=str(found[-1]), UV_PYTHON_DOWNLOADS="never")
    subprocess.run(
        [str(Path(sys.executable).parent / "uv"), "lock", "--quiet"],
        cwd=dest,
        env=env,
        check=True,
        timeout=600,
    )
    return dest


def uv_lock_in(dest: Path, image: str, engine: "Engine") -> Path:
    """`uv lock` in dest, run inside `image` (a stand-in with the Python the project pins,
    which this machine's pyenv lacks), with the uv cloudsite's own hashed lock pins; returns
    dest. The container reaches PyPI as the image builds do, trusting this machine's CA."""
    ca = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or ""
    mounts = ["--volume", f"{dest}:/project"]
    env = ["--env", "UV_PYTHON_DOWNLOADS=never", "--env", "UV_CACHE_DIR=/tmp/uv-cache"]
    if ca and Path(ca).is_file():
        mounts += ["--volume", f"{ca}:/tmp/ca.pem:ro"]
        env += ["--env", "SSL_CERT_FILE=/tmp/ca.pem", "--env", "PIP_CERT=/tmp/ca.pem"]
    lock = ROOT / "src" / "cloudsite" / "runtime" / "requirements" / "tools-uv.txt"
    mounts += ["--volume", f"{lock}:/tmp/tools-uv.txt:ro"]
    script = (
        "python3 -m venv /tmp/uv && /tmp/uv/bin/pip install --quiet --require-hashes "
        "-r /tmp/tools-uv.txt && cd /project && /tmp/uv/bin/uv lock --quiet"
    )
    result = engine.run_once(*mounts, *env, "--network", "host", image, "bash", "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    return dest
