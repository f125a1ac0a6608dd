"""Wanderpage under its production profile in a fresh interpreter, as the image runs it: through
cloudsite's runtime layer (tests/support/layer.py), with the project.json `cloudsite up` ships.
Settings load once per process, so the test process (the test profile) cannot switch in place.

Each run gets a folder of its own (`workdir`): the project.json, and the image's paths (the
collected static files, the SQLite copies) moved under it.
"""

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.layer import WANDERPAGE, layer_env

SITE = WANDERPAGE
HOST = "www.example.com"


def production_env(
    workdir: Path, *, phase: str = "run", application: str = "", **overrides: str
) -> dict[str, str]:
    """The environment of a production run (phase "run": a container's, with its own secret key
    and the site's names; "build": the image build's, which has neither). A variable set to ""
    is removed; `application` replaces the detected WSGI application in project.json."""
    env = layer_env(WANDERPAGE, workdir, phase=phase)
    env["DJANGO_ENV"] = "production"
    if phase == "run":
        env.update(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS=HOST,
            DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        )
    if application:
        document = Path(env["CLOUDSITE_PROJECT_FILE"])
        shipped = json.loads(document.read_text())
        document.write_text(json.dumps({**shipped, "application": application}))
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def manage(
    workdir: Path, *args: str, phase: str = "run", **env: str
) -> subprocess.CompletedProcess[str]:
    """manage.py through the layer, with production_env(workdir, phase=phase, **env)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SITE,
        env=production_env(workdir, phase=phase, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# The layer's WSGI application, called as gunicorn calls it, after a migrate.
_FETCH = """
import json, sys
from http.cookies import SimpleCookie
from wsgiref.util import setup_testing_defaults

from cloudsite.runtime.wsgi import application
from django.core.management import call_command

call_command("migrate", verbosity=0)
out = []
for target, secure in json.loads(sys.argv[1]):
    environ = {}
    setup_testing_defaults(environ)
    path, _, query = target.partition("?")
    environ.update(PATH_INFO=path, QUERY_STRING=query, HTTP_HOST=sys.argv[2])
    if secure:
        environ["HTTP_X_FORWARDED_PROTO"] = "https"  # what the load balancer adds
    started = {}
    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)
    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    jar = SimpleCookie()
    for name, value in started["headers"]:
        if name.lower() == "set-cookie":
            jar.load(value)
    out.append({
        "status": int(started["status"].split()[0]),
        "headers": {k: v for k, v in started["headers"] if k.lower() != "set-cookie"},
        "cookies": {k: dict(m.items()) | {"value": m.value} for k, m in jar.items()},
        "body": body.decode(errors="replace"),
    })
print(json.dumps(out))
"""


def fetch(
    workdir: Path, requests: list[tuple[str, bool]], *, static_root: Path, **env: str
) -> list[dict[str, Any]]:
    """GET each (path, over_https) from the application gunicorn would serve (the layer's front
    around Wanderpage's config.wsgi), on an SQLite database of the run's own; returns status,
    headers, cookies and body. static_root holds files collected through the layer."""
    env.setdefault("DATABASE_URL", "")  # the project's SQLite, which the layer puts in workdir
    env.setdefault("CLOUDSITE_STATIC_ROOT", str(static_root))
    result = subprocess.run(
        [sys.executable, "-c", _FETCH, json.dumps(requests), HOST],
        cwd=SITE,
        env=production_env(workdir, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))
