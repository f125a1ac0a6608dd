"""Real Django projects this repository did not write, for the tests (tests/corpus/README.md):

startproject(dest)      Django's own `django-admin startproject` layout, generated here by
                        the Django the dev lock pins; `stable=True` fixes its random key so
                        the tree (and a source zip of it) is the same in every run
wagtail_start(dest)     `wagtail start`, Wagtail's project template, from a pinned release
                        installed from PyPI into a cached virtualenv
vendored(name, dest)    a copy of tests/corpus/NAME (each with its licence and provenance)
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from tests.support.servers import ROOT

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
