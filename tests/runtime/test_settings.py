"""DJANGO_SETTINGS_MODULE=cloudsite.runtime.settings: the project's module with the production
layer on top, as Django loads it in the image. A fresh interpreter per case (settings load
once per process), on a project of a few lines that refuses nothing itself."""

import json
import subprocess
import sys
from pathlib import Path

from cloudsite.runtime.production import BUILD_HOST
from tests.runtime.tiny import SETTINGS, tiny_project

_SHOW = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in
    ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "FAVOURITE", "CLOUDSITE_CHANGES", "SETTINGS_MODULE")
    if hasattr(settings, name)}, default=str))
"""


def _load(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SHOW],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_django_gets_the_project_s_own_settings_with_the_layer_on_top(tmp_path: Path) -> None:
    own = SETTINGS + 'DEBUG = True\nFAVOURITE = "kept"\n'
    env = {**tiny_project(tmp_path, settings=own), "DJANGO_SECRET_KEY": "s" * 50}
    env["DJANGO_ALLOWED_HOSTS"] = "www.example.com"
    result = _load(env, tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["SETTINGS_MODULE"] == "cloudsite.runtime.settings"
    assert shown["FAVOURITE"] == "kept"  # any setting of the project's own passes through
    assert (shown["DEBUG"], shown["SECRET_KEY"]) == (False, "s" * 50)
    assert shown["ALLOWED_HOSTS"] == ["www.example.com"]
    assert "DEBUG = False: off in production" in shown["CLOUDSITE_CHANGES"]


def test_without_a_secret_key_at_run_time_django_refuses_to_start(tmp_path: Path) -> None:
    result = _load(tiny_project(tmp_path), tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is")
    assert "secrets pipe" in last  # where the key comes from, and how to pass one locally


def test_the_build_phase_loads_with_a_throwaway_key_and_a_placeholder_host(tmp_path: Path) -> None:
    env = {**tiny_project(tmp_path), "CLOUDSITE_PHASE": "build"}
    result = _load(env, tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["SECRET_KEY"].startswith("build-")
    assert shown["ALLOWED_HOSTS"] == [BUILD_HOST]
