"""The production layer's rules (cloudsite.runtime.production), applied in-process to settings
given as a dict, as `settings()` gives it a project's module: what is forced, what is only a
default, what is extended, and that each change is reported."""

import copy
import importlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from cloudsite.runtime import production
from cloudsite.runtime.jsonlog import logging_for
from cloudsite.runtime.production import APP, WHITENOISE, WHITENOISE_STORAGE, LayerError

KEY = "run-" + "k" * 50
RUN = {
    "DJANGO_SECRET_KEY": KEY,
    "CLOUDSITE_STATIC_ROOT": "/image/static",
    "CLOUDSITE_SEED": "/image/seed.sqlite3",
    "CLOUDSITE_SQLITE": "/tmpfs/db.sqlite3",
}
SECURITY = "django.middleware.security.SecurityMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
S3 = "storages.backends.s3.S3Storage"
SQLITE = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/home/me/site/db.sqlite3"}


def applied(
    values: dict[str, Any], *, project: dict[str, Any] | None = None, **environ: str
) -> tuple[dict[str, Any], list[str]]:
    """The layer applied to a copy of `values`: (the settings, the changes reported)."""
    result = copy.deepcopy(values)
    changes = production.apply(result, project=project or {}, environ={**RUN, **environ})
    return result, changes


def reported(changes: list[str], name: str) -> list[str]:
    return [line for line in changes if line.startswith(name)]


# -- forced, and defaults


def test_a_project_that_sets_hsts_keeps_it_and_one_that_does_not_gets_two_years() -> None:
    own, changes = applied({"SECURE_HSTS_SECONDS": 3600})
    assert own["SECURE_HSTS_SECONDS"] == 3600
    assert reported(changes, "SECURE_HSTS_SECONDS") == []
    given, changes = applied({})
    assert given["SECURE_HSTS_SECONDS"] == 63072000
    assert reported(changes, "SECURE_HSTS_SECONDS") == [
        "SECURE_HSTS_SECONDS = 63072000: HSTS for two years (the project does not set it)"
    ]


def test_a_default_the_project_turned_off_stays_off() -> None:
    own = {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
    }
    result, changes = applied(own)
    assert {name: result[name] for name in own} == own
    assert not [line for line in changes if line.startswith(tuple(own))]
    silent, _ = applied({})
    assert {name: silent[name] for name in own} == dict.fromkeys(own, True)


def test_what_production_needs_is_forced_over_the_project_s_own_values() -> None:
    project = {
        "DEBUG": True,
        "SECRET_KEY": "committed-to-git",
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }
    result, changes = applied(project, DJANGO_SECRET_KEY_FALLBACKS="old-1,old-2")
    assert result["DEBUG"] is False
    assert (result["SECRET_KEY"], result["SECRET_KEY_FALLBACKS"]) == (KEY, ["old-1", "old-2"])
    assert result["SESSION_COOKIE_SECURE"] is result["CSRF_COOKIE_SECURE"] is True
    assert result["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert reported(changes, "DEBUG") == ["DEBUG = False: off in production"]
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"):
        assert len(reported(changes, name)) == 1


def test_a_forced_value_the_project_already_has_is_not_reported() -> None:
    _, changes = applied({"DEBUG": False, "SESSION_COOKIE_SECURE": True})
    assert reported(changes, "DEBUG") == reported(changes, "SESSION_COOKIE_SECURE") == []


def test_a_missing_secret_key_at_run_time_is_refused() -> None:
    with pytest.raises(LayerError, match="DJANGO_SECRET_KEY is not set"):
        applied({"SECRET_KEY": "the-project-s-own-default"}, DJANGO_SECRET_KEY="")


# -- lists are extended


def test_hosts_origins_and_apps_are_extended_never_replaced() -> None:
    project = {
        "ALLOWED_HOSTS": ("localhost", "www.example.com"),
        "CSRF_TRUSTED_ORIGINS": ["https://admin.example.com"],
        "INSTALLED_APPS": ["django.contrib.admin", "travel"],
    }
    result, changes = applied(
        project,
        DJANGO_ALLOWED_HOSTS="www.example.com, example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://www.example.com",
    )
    assert result["ALLOWED_HOSTS"] == ["localhost", "www.example.com", "example.com"]
    assert result["CSRF_TRUSTED_ORIGINS"] == [
        "https://admin.example.com",
        "https://www.example.com",
    ]
    assert result["INSTALLED_APPS"] == ["django.contrib.admin", "travel", APP]
    # Only what was added is reported.
    assert reported(changes, "ALLOWED_HOSTS") == [
        "ALLOWED_HOSTS += example.com: the site's names (DJANGO_ALLOWED_HOSTS)"
    ]
    again, changes = applied(result, DJANGO_ALLOWED_HOSTS="example.com")
    assert again["ALLOWED_HOSTS"] == result["ALLOWED_HOSTS"]
    assert again["INSTALLED_APPS"] == result["INSTALLED_APPS"]
    assert reported(changes, "ALLOWED_HOSTS") == reported(changes, "INSTALLED_APPS") == []


# -- static files


def test_whitenoise_goes_right_after_security_middleware_when_cloudsite_serves_static() -> None:
    project = {"MIDDLEWARE": [COMMON, SECURITY, SESSIONS]}
    result, changes = applied(project, project={"serves_static": "cloudsite"})
    assert result["MIDDLEWARE"] == [COMMON, SECURITY, WHITENOISE, SESSIONS]
    assert len(reported(changes, "MIDDLEWARE")) == 1


def test_whitenoise_leads_a_chain_without_security_middleware() -> None:
    result, _ = applied({"MIDDLEWARE": [SESSIONS]}, project={"serves_static": "cloudsite"})
    assert result["MIDDLEWARE"] == [WHITENOISE, SESSIONS]


def test_whitenoise_is_never_added_twice() -> None:
    chain = [SECURITY, SESSIONS, WHITENOISE]
    result, changes = applied({"MIDDLEWARE": chain}, project={"serves_static": "cloudsite"})
    assert result["MIDDLEWARE"] == chain
    assert reported(changes, "MIDDLEWARE") == []


@pytest.mark.parametrize("serves_static", ["project", "s3", None])
def test_a_project_that_serves_its_own_static_files_gets_no_whitenoise(
    serves_static: str | None,
) -> None:
    project = {"MIDDLEWARE": [SECURITY, SESSIONS], "STORAGES": {"staticfiles": {"BACKEND": STATIC}}}
    result, changes = applied(project, project={"serves_static": serves_static})
    assert result["MIDDLEWARE"] == project["MIDDLEWARE"]
    assert result["STORAGES"] == project["STORAGES"]
    assert reported(changes, "MIDDLEWARE") == reported(changes, "STORAGES") == []


@pytest.mark.parametrize(
    ("backend", "served"),
    [(STATIC, WHITENOISE_STORAGE), (MANIFEST, WHITENOISE_STORAGE), (S3, S3)],
)
def test_staticfiles_storage_is_swapped_only_when_it_is_django_s_own(
    backend: str, served: str
) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": {"kept": True}},
    }
    result, _ = applied({"STORAGES": storages}, project={"serves_static": "cloudsite"})
    assert result["STORAGES"]["staticfiles"] == {"BACKEND": served, "OPTIONS": {"kept": True}}
    assert result["STORAGES"]["default"] == storages["default"]


def test_a_project_without_storages_gets_django_s_defaults_with_whitenoise_for_static() -> None:
    result, changes = applied({}, project={"serves_static": "cloudsite"})
    assert result["STORAGES"] == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": WHITENOISE_STORAGE},
    }
    assert len(reported(changes, "STORAGES['staticfiles']")) == 1


@pytest.mark.parametrize(("backend", "served"), [(STATIC, WHITENOISE_STORAGE), (S3, S3)])
def test_django_4_2_s_staticfiles_storage_setting_is_swapped_only_when_default(
    backend: str, served: str
) -> None:
    result, _ = applied({"STATICFILES_STORAGE": backend}, project={"serves_static": "cloudsite"})
    assert result["STATICFILES_STORAGE"] == served
    assert "STORAGES" not in result


def test_static_root_is_forced_into_the_image_only_for_files_on_disk() -> None:
    on_disk, changes = applied({"STATIC_ROOT": "/home/me/site/staticfiles"})
    assert on_disk["STATIC_ROOT"] == "/image/static"
    assert len(reported(changes, "STATIC_ROOT")) == 1
    remote = {"STATIC_ROOT": None, "STORAGES": {"staticfiles": {"BACKEND": S3}}}
    assert applied(remote)[0]["STATIC_ROOT"] is None


# -- the database


@pytest.mark.parametrize(
    ("phase", "name"), [("build", "/image/seed.sqlite3"), ("run", RUN["CLOUDSITE_SQLITE"])]
)
def test_sqlite_moves_to_the_seed_at_build_and_to_the_tmpfs_copy_at_run(
    phase: str, name: str
) -> None:
    other = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/home/me/other.sqlite3"}
    project = {"DATABASES": {"default": {**SQLITE, "OPTIONS": {"timeout": 20}}, "other": other}}
    result, changes = applied(project, CLOUDSITE_PHASE=phase)
    assert result["DATABASES"]["default"] == {**SQLITE, "NAME": name, "OPTIONS": {"timeout": 20}}
    assert result["DATABASES"]["other"] == other
    assert len(reported(changes, "DATABASES['default']['NAME']")) == 1


def test_an_in_memory_sqlite_database_stays_in_memory() -> None:
    memory = {"default": {**SQLITE, "NAME": ":memory:"}}
    result, changes = applied({"DATABASES": memory})
    assert result["DATABASES"] == memory
    assert reported(changes, "DATABASES") == []


def test_database_url_replaces_the_default_database_with_a_kept_alive_connection() -> None:
    project = {"DATABASES": {"default": SQLITE, "legacy": SQLITE}}
    result, changes = applied(project, DATABASE_URL="postgres://site:pw@db.internal:5433/site")
    default = result["DATABASES"]["default"]
    assert default["ENGINE"] == "django.db.backends.postgresql"
    assert (default["USER"], default["PASSWORD"]) == ("site", "pw")
    assert (default["HOST"], default["PORT"], default["NAME"]) == ("db.internal", 5433, "site")
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (60, True)
    assert result["DATABASES"]["legacy"] == SQLITE
    assert len(reported(changes, "DATABASES['default']")) == 1
    assert "pw" not in " ".join(changes)


@pytest.mark.parametrize("needed", [False, True])
def test_at_build_time_database_url_serves_only_a_project_that_needs_its_database(
    needed: bool,
) -> None:
    result, _ = applied(
        {"DATABASES": {"default": SQLITE}},
        project={"database": {"needed": needed}},
        CLOUDSITE_PHASE="build",
        DATABASE_URL="postgres://u:p@127.0.0.1:9/build",
    )
    engine = result["DATABASES"]["default"]["ENGINE"]
    assert engine == ("django.db.backends.postgresql" if needed else SQLITE["ENGINE"])


def test_the_project_s_own_objects_are_never_changed_in_place() -> None:
    # settings() hands the layer the project module's own lists and dicts; another import of
    # that module must still see them as the project wrote them.
    databases = {"default": dict(SQLITE)}
    hosts, middleware = ["localhost"], [SECURITY]
    storages = {"staticfiles": {"BACKEND": STATIC}}
    values = {
        "DATABASES": databases,
        "ALLOWED_HOSTS": hosts,
        "MIDDLEWARE": middleware,
        "STORAGES": storages,
    }
    environ = {**RUN, "DJANGO_ALLOWED_HOSTS": "example.com"}
    production.apply(values, project={"serves_static": "cloudsite"}, environ=environ)
    assert values["ALLOWED_HOSTS"] == ["localhost", "example.com"]
    assert values["MIDDLEWARE"] == [SECURITY, WHITENOISE]
    assert (hosts, middleware) == (["localhost"], [SECURITY])
    assert databases == {"default": SQLITE}
    assert storages == {"staticfiles": {"BACKEND": STATIC}}


# -- logging and the environment


def test_logging_is_given_only_to_a_project_without_its_own() -> None:
    given, changes = applied({})
    assert given["LOGGING"] == logging_for("INFO")
    assert len(reported(changes, "LOGGING")) == 1
    own = {"version": 1, "disable_existing_loggers": True}
    kept, changes = applied({"LOGGING": own})
    assert kept["LOGGING"] == own
    assert reported(changes, "LOGGING") == []


def test_the_log_level_is_the_configured_one_though_gunicorn_imported_the_logging_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gunicorn's logconfig_dict imports cloudsite.runtime.jsonlog before the project's settings
    # load; DJANGO_LOG_LEVEL from the configuration's `environment` arrives only then.
    importlib.import_module("cloudsite.runtime.jsonlog")
    module = f"project_settings_{secrets.token_hex(4)}"
    (tmp_path / f"{module}.py").write_text("DEBUG = False\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    document = {"settings": module, "environment": {"DJANGO_LOG_LEVEL": "WARNING"}}
    (tmp_path / "project.json").write_text(json.dumps(document))
    environ = {**RUN, "CLOUDSITE_PROJECT_FILE": str(tmp_path / "project.json")}
    values = production.settings(environ)
    assert values["LOGGING"]["root"]["level"] == "WARNING"
    assert values["LOGGING"]["loggers"]["django"]["level"] == "WARNING"


def test_the_environment_gets_the_configured_values_and_the_key_under_the_project_s_names() -> None:
    environ = {"DJANGO_SECRET_KEY": KEY, "REGION": "mine"}
    project = {
        "environment": {"SITE_NAME": "Wanderpage", "REGION": "eu-west-1"},
        "secret_key_env": ["SECRET_KEY", "DJANGO_SECRET_KEY"],
    }
    production.prepare_environment(project, environ)
    assert environ == {
        "DJANGO_SECRET_KEY": KEY,
        "REGION": "mine",  # a value the host sets wins over the configured one
        "SITE_NAME": "Wanderpage",
        "SECRET_KEY": KEY,
    }


@pytest.mark.parametrize("needed", [False, True])
def test_the_build_phase_gets_a_throwaway_key_and_placeholder_hosts(needed: bool) -> None:
    environ = {"CLOUDSITE_PHASE": "build"}
    production.prepare_environment({"database": {"needed": needed}}, environ)
    assert environ["DJANGO_SECRET_KEY"].startswith("build-")
    assert environ["DJANGO_ALLOWED_HOSTS"] == production.BUILD_HOST
    assert ("DATABASE_URL" in environ) is needed
    other: dict[str, str] = {"CLOUDSITE_PHASE": "build"}
    production.prepare_environment({}, other)
    assert other["DJANGO_SECRET_KEY"] != environ["DJANGO_SECRET_KEY"]  # a new one every build


# -- every change is reported


PROJECT_MODULE = """
DEBUG = True
SECRET_KEY = "committed-to-git"
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
STATIC_URL = "static/"
STATIC_ROOT = "staticfiles"
"""


def test_every_change_to_a_project_s_settings_is_reported_and_the_secret_never_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"project_settings_{secrets.token_hex(4)}"
    (tmp_path / f"{module}.py").write_text(PROJECT_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    document = {"settings": module, "serves_static": "cloudsite", "database": {"needed": False}}
    (tmp_path / "project.json").write_text(json.dumps(document))
    environ = {
        **RUN,
        "CLOUDSITE_PROJECT_FILE": str(tmp_path / "project.json"),
        "DJANGO_ALLOWED_HOSTS": "www.example.com",
    }
    values = production.settings(environ)
    own = importlib.import_module(module)
    changes = values.pop("CLOUDSITE_CHANGES")
    changed = {name for name in values if getattr(own, name, None) != values[name]}
    assert changed >= {"DEBUG", "ALLOWED_HOSTS", "MIDDLEWARE", "DATABASES", "STATIC_ROOT"}
    for name in changed - {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}:
        assert reported(changes, name), f"{name} changed unreported: {changes}"
    assert not [line for line in changes if KEY in line or line.startswith("SECRET_KEY")]


# -- what every instance must see: sessions, messages, media (docs/data.md)

SESSION_APP = {"MIDDLEWARE": [SECURITY, SESSIONS, COMMON]}
SIGNED = "django.contrib.sessions.backends.signed_cookies"
COOKIES = "django.contrib.messages.storage.cookie.CookieStorage"
SERVER = {"database": {"needed": False, "server": True}}


def test_without_a_database_server_sessions_and_messages_go_in_signed_cookies() -> None:
    values, changes = applied(SESSION_APP)
    assert values["SESSION_ENGINE"] == SIGNED
    assert values["MESSAGE_STORAGE"] == COOKIES
    assert reported(changes, "SESSION_ENGINE") == [
        f"SESSION_ENGINE = '{SIGNED}': no database server: a session must not live in one "
        "container's SQLite"
    ]
    # a project's own session store that every instance shares is left alone
    redis = "django.contrib.sessions.backends.cache"
    own, changes = applied(
        {
            **SESSION_APP,
            "SESSION_ENGINE": redis,
            "CACHES": {"default": {"BACKEND": "django_redis.cache.RedisCache"}},
        }
    )
    assert own["SESSION_ENGINE"] == redis and reported(changes, "SESSION_ENGINE") == []


def test_with_a_database_server_sessions_in_one_process_move_to_the_database() -> None:
    values, _ = applied(SESSION_APP, project=SERVER)
    assert "SESSION_ENGINE" not in values  # Django's default, the database: shared already
    for engine in ("cache", "cached_db", "file"):
        moved, changes = applied(
            {**SESSION_APP, "SESSION_ENGINE": f"django.contrib.sessions.backends.{engine}"},
            project=SERVER,
        )
        assert moved["SESSION_ENGINE"] == "django.contrib.sessions.backends.db", engine
        assert len(reported(changes, "SESSION_ENGINE")) == 1
    # at run time, DATABASE_URL alone says there is a server
    values, _ = applied(SESSION_APP, DATABASE_URL="postgres://u:p@db:5432/site")
    assert "SESSION_ENGINE" not in values


MEDIA = {"media": "s3"}
BUCKET = {"AWS_STORAGE_BUCKET_NAME": "site-media-1", "AWS_S3_REGION_NAME": "eu-west-1"}


def test_media_go_to_the_bucket_through_django_storages_with_signed_urls() -> None:
    values, changes = applied({}, project=MEDIA, **BUCKET)
    default = values["STORAGES"]["default"]
    assert default["BACKEND"] == S3
    assert default["OPTIONS"] == {
        "bucket_name": "site-media-1",
        "region_name": "eu-west-1",
        "signature_version": "s3v4",
        "file_overwrite": False,
        "querystring_auth": True,
        "default_acl": None,
    }
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == STATIC  # untouched here
    assert reported(changes, "STORAGES['default']") == [
        "STORAGES['default'] = S3Storage in site-media-1: uploads outlive the containers, "
        "signed URLs"
    ]
    local, _ = applied({}, project=MEDIA, AWS_S3_ENDPOINT_URL="http://s3.localhost:9000", **BUCKET)
    assert local["STORAGES"]["default"]["OPTIONS"]["endpoint_url"] == "http://s3.localhost:9000"
    assert local["STORAGES"]["default"]["OPTIONS"]["addressing_style"] == "path"


def test_a_projects_own_storage_is_kept_and_without_a_bucket_the_site_does_not_start() -> None:
    own = {"STORAGES": {"default": {"BACKEND": S3, "OPTIONS": {"location": "m"}}}}
    values, changes = applied(own, project=MEDIA, **BUCKET)
    assert values["STORAGES"]["default"] == own["STORAGES"]["default"]
    assert reported(changes, "STORAGES['default']") == []
    # Django 4.2's older names: STORAGES may not be set beside them
    old, _ = applied({"STATICFILES_STORAGE": MANIFEST}, project=MEDIA, **BUCKET)
    assert "STORAGES" not in old
    assert old["DEFAULT_FILE_STORAGE"] == S3
    assert old["AWS_STORAGE_BUCKET_NAME"] == "site-media-1"
    assert old["AWS_S3_FILE_OVERWRITE"] is False and old["AWS_QUERYSTRING_AUTH"] is True
    with pytest.raises(LayerError, match="AWS_STORAGE_BUCKET_NAME is not set"):
        applied({}, project=MEDIA)
    nothing, _ = applied({}, project={"media": "none"})
    assert "STORAGES" not in nothing


def test_the_build_signs_media_urls_with_placeholders_and_reaches_no_bucket() -> None:
    environ: dict[str, str] = {"CLOUDSITE_PHASE": "build"}
    production.prepare_environment({"media": "s3", "database": {"server": True}}, environ)
    assert environ["AWS_STORAGE_BUCKET_NAME"] == "cloudsite-build"
    assert environ["AWS_S3_ENDPOINT_URL"] == "http://127.0.0.1:9"  # nothing answers there
    assert environ["DATABASE_URL"] == production.BUILD_DATABASE_URL
    run: dict[str, str] = {}
    production.prepare_environment({"media": "s3"}, run)
    assert "AWS_STORAGE_BUCKET_NAME" not in run  # a container gets the real one from the hooks


def test_a_postgresql_connection_is_bounded_so_a_restart_cannot_hang_a_request() -> None:
    entry = production.database_from("postgres://u:p@db.internal:5432/site?sslmode=require")
    assert entry["OPTIONS"]["sslmode"] == "require"  # the URL's own options stay
    assert entry["OPTIONS"]["tcp_user_timeout"] == 10_000  # a half-open connection ends
    assert entry["OPTIONS"]["connect_timeout"] == 5
    assert entry["CONN_MAX_AGE"] == 60 and entry["CONN_HEALTH_CHECKS"] is True
    assert "OPTIONS" not in production.database_from("sqlite:////tmp/db.sqlite3") or (
        "tcp_user_timeout" not in production.database_from("sqlite:////tmp/db.sqlite3")["OPTIONS"]
    )


# -- background work: Celery on the stack's broker (docs/background.md)
def test_celery_on_sqs_acknowledges_late_and_finds_the_queue_by_its_url() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/site-tasks"
    values, changes = applied(
        {"CELERY_RESULT_BACKEND": "sqs://", "CELERY_TASK_TIME_LIMIT": 300},
        CLOUDSITE_BROKER="sqs",
        CLOUDSITE_QUEUE_URL=url,
        CLOUDSITE_TASK_TIMEOUT="600",
        CELERY_BROKER_URL="sqs://",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    assert values["CELERY_BROKER_URL"] == "sqs://"
    options = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["predefined_queues"] == {"celery": {"url": url}}
    assert options["visibility_timeout"] == 660  # the longest task and its stop grace
    assert options["region"] == "eu-west-1" and options["is_secure"] is True
    assert options["wait_time_seconds"] == 10 and options["polling_interval"] == 0.1
    assert values["CELERY_TASK_ACKS_LATE"] is True
    assert values["CELERY_TASK_REJECT_ON_WORKER_LOST"] is True
    assert values["CELERY_WORKER_PREFETCH_MULTIPLIER"] == 1
    assert values["CELERY_TASK_TIME_LIMIT"] == 300  # the project's own, shorter, stays
    assert values["CELERY_RESULT_BACKEND"] is None  # SQS keeps no results
    assert reported(changes, "CELERY_BROKER_TRANSPORT_OPTIONS")


def test_celery_on_valkey_keeps_its_result_backend_and_gets_the_visibility_timeout() -> None:
    values, _ = applied(
        {"CELERY_RESULT_BACKEND": "redis://old", "CELERY_BROKER_TRANSPORT_OPTIONS": {"x": 1}},
        CLOUDSITE_BROKER="redis",
        CELERY_BROKER_URL="rediss://:t@valkey:6379/0?ssl_cert_reqs=required",
    )
    assert values["CELERY_BROKER_URL"].startswith("rediss://")
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"x": 1, "visibility_timeout": 1860}
    assert values["CELERY_RESULT_BACKEND"] == "redis://old"
    assert values["CELERY_TASK_TIME_LIMIT"] == 1800  # the default, the project set none
    assert "predefined_queues" not in values["CELERY_BROKER_TRANSPORT_OPTIONS"]


def test_without_a_broker_the_layer_leaves_celery_alone() -> None:
    values, changes = applied({"CELERY_BROKER_URL": "redis://x"})
    assert values["CELERY_BROKER_URL"] == "redis://x"
    assert "CELERY_TASK_ACKS_LATE" not in values
    assert not [c for c in changes if c.startswith("CELERY")]
