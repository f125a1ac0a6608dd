"""The settings profiles, chosen by DJANGO_ENV; production run as the image runs it, through the
runtime layer, and its refusal to run unsafely."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.site.production import SITE, manage, production_env


def test_production_passes_check_deploy_with_zero_issues(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "DJANGO_SECRET_KEY is not set" in last


def test_unknown_profile_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "use development, production or test" in result.stderr


_PRINT = "import django; django.setup(); from django.conf import settings; print(repr({}))"


def _run(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=SITE, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after any log line (JSON too)


def _setting(name: str, workdir: Path, **env: str) -> str:
    """repr(settings.<name>) in production, through the layer."""
    return _run(_PRINT.format(f"settings.{name}"), production_env(workdir, **env))


def _own_setting(name: str, **env: str) -> str:
    """repr(settings.<name>) with the project's own settings package, as `manage.py runserver`
    loads it on a developer's machine (no layer)."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOUDSITE_"))}
    plain.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return _run(_PRINT.format(f"settings.{name}"), plain)


def test_production_has_debug_off_even_if_asked(tmp_path: Path) -> None:
    assert _setting("DEBUG", tmp_path, DJANGO_DEBUG="true") == "False"


def test_development_profile_has_debug_on() -> None:
    assert _own_setting("DEBUG", DJANGO_ENV="development") == "True"


def test_hosts_and_origins_come_from_the_environment(tmp_path: Path) -> None:
    hosts = _setting("ALLOWED_HOSTS", tmp_path, DJANGO_ALLOWED_HOSTS="a.example,b.example")
    assert hosts == "['a.example', 'b.example']"
    origins = _setting(
        "CSRF_TRUSTED_ORIGINS", tmp_path, DJANGO_CSRF_TRUSTED_ORIGINS="https://a.example"
    )
    assert origins == "['https://a.example']"


def test_no_profile_allows_every_host(tmp_path: Path) -> None:
    assert "'*'" not in _setting("ALLOWED_HOSTS", tmp_path)
    assert "'*'" not in _own_setting("ALLOWED_HOSTS", DJANGO_ENV="development")


def test_proxy_ssl_header_is_trusted_in_production(tmp_path: Path) -> None:
    assert _setting("SECURE_PROXY_SSL_HEADER", tmp_path) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    engine = _setting(
        "DATABASES['default']['ENGINE']",
        tmp_path,
        DATABASE_URL="postgres://u:p@127.0.0.1:5432/db",
    )
    assert engine == "'django.db.backends.postgresql'"


def test_the_layer_changes_only_what_the_production_profile_leaves_to_the_platform(
    tmp_path: Path,
) -> None:
    # Wanderpage's profile already does HTTPS, HSTS, cookies and whitenoise itself: the layer
    # adds its paths, its logging and its app, and says so. Without a database server (no
    # DATABASE_URL), sessions and messages also move to signed cookies, so that a login holds
    # on every instance.
    code = "import django, json; django.setup(); from django.conf import settings; "
    code += "print(json.dumps(settings.CLOUDSITE_CHANGES))"
    expected = ["DATABASES", "INSTALLED_APPS", "LOGGING", "STATIC_ROOT"]
    for url, also in (("", ["MESSAGE_STORAGE", "SESSION_ENGINE"]), (POSTGRES_URL, [])):
        changes = json.loads(_run(code, production_env(tmp_path, DATABASE_URL=url)))
        changed = sorted({line.split(" ", 1)[0].split("[", 1)[0] for line in changes})
        assert changed == sorted(expected + also), changes
    assert _setting("SESSION_COOKIE_NAME", tmp_path) == "'__Host-sessionid'"  # the project's


POSTGRES_URL = "postgres://u:p@127.0.0.1:9/db"  # never connected to: settings only

_SESSION = """
import json, sys, django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
if sys.argv[1] == "encode":
    print(SessionStore().encode({"_auth_user_id": "42"}))
else:
    print(json.dumps(SessionStore().decode(sys.argv[2])))
"""


def _session(workdir: Path, *args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _SESSION, *args],
        cwd=SITE,
        env=production_env(workdir, **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]  # after any log line (JSON too)


def test_sessions_survive_a_key_rotation_only_while_the_old_key_is_a_fallback(
    tmp_path: Path,
) -> None:
    """What a rotation does to a signed-in visitor (docs/deploy.md, "Rotating the secret
    key"), with keys like Secrets Manager's: punctuation, never a comma."""
    old, new = "o!d#K3y%" * 8, "n&w*K3y^" * 8
    stored = _session(tmp_path, "encode", DJANGO_SECRET_KEY=old)
    fallbacks = f"p3nd!ng*{new[:8]},{old}"  # a pending key, then the previous one
    during = _session(
        tmp_path, "decode", stored, DJANGO_SECRET_KEY=new, DJANGO_SECRET_KEY_FALLBACKS=fallbacks
    )
    assert json.loads(during) == {"_auth_user_id": "42"}  # still signed in
    after = _session(tmp_path, "decode", stored, DJANGO_SECRET_KEY=new)
    assert json.loads(after) == {}  # the old key dropped: signed out, nothing worse
