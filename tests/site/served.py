"""Wanderpage served for real, as the image serves it: gunicorn with the runtime layer's config
(`--config python:cloudsite.runtime.gunicorn_conf`, whose application is the layer's front
around the project's config.wsgi), the production profile through the layer, on a free
loopback port, with its stdout (the JSON log) captured to a file.

Used by the real-server suites (tests/site/test_server.py, tests/runtime/test_server.py and
test_secretpipe.py), the browser suite (tests/browser/) and verify's (tests/verify/).
"""

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tests.site.production import HOST, SITE, production_env
from tests.support.servers import ROOT, free_port, running

# The host names the served site accepts; the browser reaches it as 127.0.0.1.
HOSTS = f"{HOST},127.0.0.1"
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:cloudsite.runtime.gunicorn_conf"]


@dataclass(frozen=True)
class Served:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]  # the server's environment, for manage.py commands on its database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines()


def site_env(
    workdir: Path, *, static_root: Path, application: str = "", **overrides: str
) -> dict[str, str]:
    """The production environment: a database of the suite's own (the PostgreSQL run's
    DATABASE_URL, or SQLite in workdir) and static files collected through the layer."""
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'db.sqlite3'}"
    overrides.setdefault("DATABASE_URL", database)
    overrides.setdefault("DJANGO_ALLOWED_HOSTS", HOSTS)
    env = production_env(
        workdir, application=application, CLOUDSITE_STATIC_ROOT=str(static_root), **overrides
    )
    # tests.* is importable, for the test applications some suites serve (after the project).
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(ROOT)])
    # The server's own defaults apply unless a test sets them.
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT"):
        if name not in overrides:
            env.pop(name, None)
    return env


@contextmanager
def gunicorn_site(
    workdir: Path,
    *,
    static_root: Path,
    application: str = "",
    migrate: bool = True,
    trust_browser_origin: bool = False,
    **env: str,
) -> Iterator[Served]:
    """Migrate (unless told not to), then serve with gunicorn until the block ends (SIGTERM,
    then SIGKILL). `application` (module:attribute) replaces config.wsgi behind the front.

    trust_browser_origin: a browser that reaches the site over plain HTTP, sending
    X-Forwarded-Proto: https as the load balancer would, posts forms with an http:// Origin
    that Django's CSRF check compares with the https:// it believes it serves. Trusting that
    one origin lets the admin be driven; behind a real load balancer the two agree.
    """
    port = free_port()
    if trust_browser_origin:
        env["DJANGO_CSRF_TRUSTED_ORIGINS"] = f"https://{HOST},http://127.0.0.1:{port}"
    environment = site_env(workdir, static_root=static_root, application=application, **env)
    if migrate:
        manage(environment, "migrate", "--no-input")
    log = workdir / f"gunicorn-{port}.log"
    argv = [*GUNICORN, "--bind", f"127.0.0.1:{port}"]
    with running(argv, port=port, env=environment, cwd=SITE, log=log, timeout=60) as proc:
        yield Served(port=port, proc=proc, log=log, env=environment)


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, Message, bytes]:
    """One GET to the served site on loopback: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def manage(env: dict[str, str], *args: str) -> None:
    """Run a manage.py command with the served site's environment; fail with its stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
