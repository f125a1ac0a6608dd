"""The settings profiles, chosen by DJANGO_ENV, and production's refusal to run unsafely."""

import json
import subprocess
import sys

from tests.site.production import SITE, manage, production_env


def test_production_passes_check_deploy_with_zero_issues() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = manage("check", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "DJANGO_SECRET_KEY is not set" in last


def test_unknown_profile_is_refused_with_the_choices() -> None:
    result = manage("check", DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "use development, production or test" in result.stderr


def _setting(name: str, **env: str) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(repr(settings.{name}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=SITE,
        env=production_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_production_has_debug_off_even_if_asked() -> None:
    assert _setting("DEBUG", DJANGO_DEBUG="true") == "False"


def test_development_profile_has_debug_on() -> None:
    assert _setting("DEBUG", DJANGO_ENV="development") == "True"


def test_hosts_and_origins_come_from_the_environment() -> None:
    hosts = _setting("ALLOWED_HOSTS", DJANGO_ALLOWED_HOSTS="a.example,b.example")
    assert hosts == "['a.example', 'b.example']"
    origins = _setting("CSRF_TRUSTED_ORIGINS", DJANGO_CSRF_TRUSTED_ORIGINS="https://a.example")
    assert origins == "['https://a.example']"


def test_no_profile_allows_every_host() -> None:
    for profile in ("production", "development"):
        assert "'*'" not in _setting("ALLOWED_HOSTS", DJANGO_ENV=profile)


def test_proxy_ssl_header_is_trusted_in_production() -> None:
    assert _setting("SECURE_PROXY_SSL_HEADER") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_database_url_selects_postgresql() -> None:
    engine = _setting(
        "DATABASES['default']['ENGINE']", DATABASE_URL="postgres://u:p@127.0.0.1:5432/db"
    )
    assert engine == "'django.db.backends.postgresql'"


_SESSION = """
import json, sys, django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
if sys.argv[1] == "encode":
    print(SessionStore().encode({"_auth_user_id": "42"}))
else:
    print(json.dumps(SessionStore().decode(sys.argv[2])))
"""


def _session(*args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _SESSION, *args],
        cwd=SITE,
        env=production_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]  # after any log line (JSON too)


def test_sessions_survive_a_key_rotation_only_while_the_old_key_is_a_fallback() -> None:
    """What a rotation does to a signed-in visitor (docs/deploy.md, "Rotating the secret
    key"), with keys like Secrets Manager's: punctuation, never a comma."""
    old, new = "o!d#K3y%" * 8, "n&w*K3y^" * 8
    stored = _session("encode", DJANGO_SECRET_KEY=old)
    fallbacks = f"p3nd!ng*{new[:8]},{old}"  # a pending key, then the previous one
    during = _session(
        "decode", stored, DJANGO_SECRET_KEY=new, DJANGO_SECRET_KEY_FALLBACKS=fallbacks
    )
    assert json.loads(during) == {"_auth_user_id": "42"}  # still signed in
    after = _session("decode", stored, DJANGO_SECRET_KEY=new)
    assert json.loads(after) == {}  # the old key dropped: signed out, nothing worse
