"""Runs code under the production profile in a fresh interpreter (settings load once per
process, so the test process, which uses the test profile, cannot switch in place)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parents[2] / "site"


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="www.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://www.example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SITE,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_FETCH = """
import json, sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from django.test.utils import setup_test_environment
client = Client()
out = []
for path, secure in json.loads(sys.argv[1]):
    r = client.get(path, secure=secure, headers={"host": "www.example.com"})
    out.append({"status": r.status_code, "headers": dict(r.headers),
                "cookies": {k: dict(v.items()) | {"value": v.value} for k, v in r.cookies.items()}})
print(json.dumps(out))
"""


def fetch(requests: list[tuple[str, bool]], *, static_root: Path, **env: str) -> list[dict]:
    """GET each (path, over_https) with the production profile; returns status, headers, cookies.

    static_root holds files collected with the production profile (the manifest must exist).
    """
    env.setdefault("DATABASE_URL", "sqlite:///:memory:")
    env.setdefault("DJANGO_STATIC_ROOT", str(static_root))
    result = subprocess.run(
        [sys.executable, "-c", _FETCH, json.dumps(requests)],
        cwd=SITE,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
