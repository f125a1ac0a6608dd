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


# A startproject with a Celery app of its own and one task that records each run in a row,
# for what only counting can prove (each task ran exactly once). Written by the tests, so it
# stands beside the corpus' own Celery project (cookiecutter-django), never instead of it.
CELERY = "celery==5.6.3"
_CELERY_FILES = {
    "mysite/celery_app.py": """\
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
app = Celery("mysite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
""",
    "tally/__init__.py": "",
    "tally/migrations/__init__.py": "",
    "tally/models.py": """\
from django.db import models


class Ran(models.Model):
    key = models.CharField(max_length=64)
    worker = models.CharField(max_length=128, default="")
    started = models.FloatField(default=0.0)  # time.time() as the task began
""",
    "tally/migrations/0001_initial.py": """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Ran",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("key", models.CharField(max_length=64)),
                ("worker", models.CharField(default="", max_length=128)),
                ("started", models.FloatField(default=0.0)),
            ],
        ),
    ]
""",
    "tally/tasks.py": """\
import socket
import time

from celery import shared_task


@shared_task
def record(key, seconds=0.0):
    from tally.models import Ran

    started = time.time()
    time.sleep(seconds)
    Ran.objects.create(key=key, worker=socket.gethostname(), started=started)
    return key
""",
    "tally/views.py": """\
from django.db.models import Count
from django.http import JsonResponse


def enqueue(request, key):
    from tally.tasks import record

    return JsonResponse({"id": record.delay(key, float(request.GET.get("seconds", 0))).id})


def counts(request):
    from tally.models import Ran

    rows = Ran.objects.values("key").annotate(n=Count("id"))
    return JsonResponse({row["key"]: row["n"] for row in rows})


def started(request):
    from tally.models import Ran

    return JsonResponse({key: at for key, at in Ran.objects.values_list("key", "started")})
""",
}


def celery_project(dest: Path) -> Path:
    """startproject + a Celery app + the tally app (enqueue/KEY/, counts/); returns dest."""
    startproject(dest)
    for name, text in _CELERY_FILES.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text)
    settings = dest / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + '\nINSTALLED_APPS += ["tally"]\nimport mysite.celery_app  # noqa\n'
    )
    urls = dest / "mysite" / "urls.py"
    urls.write_text(
        urls.read_text()
        + "\nfrom tally import views  # noqa: E402\n\nurlpatterns += [\n"
        + '    path("enqueue/<str:key>/", views.enqueue),\n    path("counts/", views.counts),\n'
        + '    path("started/", views.started),\n]\n'
    )
    django = subprocess.run(
        [sys.executable, "-c", "import django; print(django.get_version())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (dest / "requirements.txt").write_text(f"django=={django}\n{CELERY}\n")
    return dest
