"""The production layer: the project's own settings, made fit to run behind the load balancer.

`settings()` imports the module the project names (project.json's "settings") and applies the
layer on top. Two kinds of change (docs/your-project.md lists each one):

- forced, because production is wrong without them: SECRET_KEY and its fallbacks from the
  secrets pipe, DEBUG off, the site's hosts and origins added, the load balancer's
  X-Forwarded-Proto trusted, Secure cookies, the database from DATABASE_URL, STATIC_ROOT
  inside the image, the migrate-once app;
- defaults, applied only where the project's settings do not set the name themselves:
  the HTTPS redirect, HSTS, whitenoise (unless the project serves static files its own way),
  JSON logging on stdout.

Lists are added to, never replaced. Each change is recorded in CLOUDSITE_CHANGES, which the
build prints, so nothing happens to a project unseen.

The phase (CLOUDSITE_PHASE) is "build" while the image is built: a throwaway key, no
database, placeholder hosts. It is "run" in a container, where a missing secret key is an
error instead.
"""

import importlib
import json
import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Final

PROJECT_FILE: Final = "/opt/cloudsite/project.json"
# Where things are in the image. A run outside one (the test suites, `make run`) moves them
# with the variable named beside each.
SQLITE_RUN: Final = ("CLOUDSITE_SQLITE", "/tmp/cloudsite/db.sqlite3")  # noqa: S108 (the tmpfs)
SQLITE_SEED: Final = ("CLOUDSITE_SEED", "/opt/cloudsite/var/seed.sqlite3")
STATIC_ROOT: Final = ("CLOUDSITE_STATIC_ROOT", "/opt/cloudsite/static")
# A database URL nothing answers: the build runs collectstatic and checks without a database.
BUILD_DATABASE_URL: Final = "postgres://cloudsite-build@127.0.0.1:9/cloudsite-build"
BUILD_HOST: Final = "cloudsite-build.invalid"
HSTS_SECONDS: Final = 63072000  # two years, what hstspreload.org asks for
WHITENOISE: Final = "whitenoise.middleware.WhiteNoiseMiddleware"
WHITENOISE_STORAGE: Final = "whitenoise.storage.CompressedManifestStaticFilesStorage"
DEFAULT_STORAGES: Final = (
    "django.contrib.staticfiles.storage.StaticFilesStorage",
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
)
APP: Final = "cloudsite.runtime.deployments"
# Media at build time: a bucket and keys that sign URLs, and an endpoint nothing answers.
BUILD_MEDIA: Final = {
    "AWS_STORAGE_BUCKET_NAME": "cloudsite-build",
    "AWS_S3_REGION_NAME": "us-east-1",
    "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "cloudsite-build-placeholder",
    "AWS_SECRET_ACCESS_KEY": "cloudsite-build-placeholder",  # signs nothing real
    "AWS_EC2_METADATA_DISABLED": "true",
}
S3_STORAGE: Final = "storages.backends.s3.S3Storage"
OLD_S3_SETTINGS: Final = {  # the S3Storage OPTIONS the layer sets, as settings (Django 4.2)
    "bucket_name": "AWS_STORAGE_BUCKET_NAME",
    "region_name": "AWS_S3_REGION_NAME",
    "signature_version": "AWS_S3_SIGNATURE_VERSION",
    "file_overwrite": "AWS_S3_FILE_OVERWRITE",
    "querystring_auth": "AWS_QUERYSTRING_AUTH",
    "default_acl": "AWS_DEFAULT_ACL",
    "endpoint_url": "AWS_S3_ENDPOINT_URL",
    "addressing_style": "AWS_S3_ADDRESSING_STYLE",
}
SESSIONS: Final = "django.contrib.sessions.backends."
SESSION_MIDDLEWARE: Final = "django.contrib.sessions.middleware.SessionMiddleware"
COOKIE_MESSAGES: Final = "django.contrib.messages.storage.cookie.CookieStorage"
# Caches that live in one process or one container (cloudsite.project.data has the same list).
PER_PROCESS_CACHES: Final = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def place(which: tuple[str, str], environ: Mapping[str, str] = os.environ) -> str:
    """SQLITE_RUN, SQLITE_SEED or STATIC_ROOT, as this process sees it."""
    return environ.get(which[0], which[1])


class LayerError(Exception):
    """The layer cannot make these settings run (a missing secret at run time)."""


def load_project(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """project.json: what detection found and what the configuration asks of the image."""
    path = Path(environ.get("CLOUDSITE_PROJECT_FILE", PROJECT_FILE))
    return dict(json.loads(path.read_text()))


def prepare_environment(project: Mapping[str, Any], environ: MutableMapping[str, str]) -> None:
    """What must be in the environment before the project's settings import: the values the
    configuration gives (`environment`), the secret key under the names the settings read it
    from, and at build time the placeholders that let them import."""
    for name, value in project.get("environment", {}).items():
        environ.setdefault(name, value)
    if environ.get("CLOUDSITE_PHASE") == "build":
        # Not a secret: it signs nothing and is gone with the build step.
        environ.setdefault("DJANGO_SECRET_KEY", "build-" + secrets.token_urlsafe(48))
        environ.setdefault("DJANGO_ALLOWED_HOSTS", BUILD_HOST)
        if _server(project):
            environ.setdefault("DATABASE_URL", BUILD_DATABASE_URL)
        if project.get("media") == "s3":
            # Signing a URL needs a key, not a network; any call to S3 is refused at once.
            for name, value in BUILD_MEDIA.items():
                environ.setdefault(name, value)
    key = environ.get("DJANGO_SECRET_KEY", "")
    if key:
        for name in project.get("secret_key_env", []):
            environ.setdefault(name, key)


def settings(environ: MutableMapping[str, str] = os.environ) -> dict[str, Any]:
    """The settings Django gets: the project's module, then `apply`."""
    project = load_project(environ)
    prepare_environment(project, environ)
    module = importlib.import_module(project["settings"])
    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    values["CLOUDSITE_CHANGES"] = apply(values, project=project, environ=environ)
    return values


def apply(
    values: dict[str, Any], *, project: Mapping[str, Any], environ: Mapping[str, str]
) -> list[str]:
    """Apply the layer to `values` (the project's settings, by name) in place; returns what
    changed, one line each."""
    changes: list[str] = []
    layer = _Layer(values, changes)
    build = environ.get("CLOUDSITE_PHASE") == "build"

    # -- secrets and debug
    key = environ.get("DJANGO_SECRET_KEY", "")
    if not key:
        raise LayerError(
            "DJANGO_SECRET_KEY is not set: the deploy hooks hand it over through the secrets "
            "pipe (start with CLOUDSITE_SECRETS=pipe, or pass it with -e for a local run)"
        )
    layer.force(
        "SECRET_KEY", key, "from DJANGO_SECRET_KEY (Secrets Manager, through the pipe)", quiet=True
    )
    fallbacks = [k for k in environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k]
    layer.force("SECRET_KEY_FALLBACKS", fallbacks, "from DJANGO_SECRET_KEY_FALLBACKS", quiet=True)
    layer.force("DEBUG", False, "off in production")

    # -- hosts and TLS at the load balancer
    layer.extend(
        "ALLOWED_HOSTS",
        _split(environ.get("DJANGO_ALLOWED_HOSTS", "")),
        "the site's names (DJANGO_ALLOWED_HOSTS)",
    )
    layer.extend(
        "CSRF_TRUSTED_ORIGINS",
        _split(environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "")),
        "the site's origins",
    )
    layer.force(
        "SECURE_PROXY_SSL_HEADER",
        ("HTTP_X_FORWARDED_PROTO", "https"),
        "the load balancer terminates TLS",
    )
    layer.force("SESSION_COOKIE_SECURE", True, "the site is only served over HTTPS")
    layer.force("CSRF_COOKIE_SECURE", True, "the site is only served over HTTPS")
    layer.default("SECURE_SSL_REDIRECT", True, "plain HTTP is redirected")
    layer.default("SECURE_HSTS_SECONDS", HSTS_SECONDS, "HSTS for two years")
    layer.default("SECURE_HSTS_INCLUDE_SUBDOMAINS", True, "HSTS covers subdomains")
    layer.default("SECURE_HSTS_PRELOAD", True, "HSTS may be preloaded")

    # -- the database, and what must be seen by every instance: sessions, messages, media
    _database(layer, project=project, environ=environ, build=build)
    _sessions(layer, server=_server(project) or (not build and bool(environ.get("DATABASE_URL"))))
    _media(layer, project=project, environ=environ)

    # -- static files, collected into the image at build time
    if _filesystem_static(values):
        layer.force(
            "STATIC_ROOT", place(STATIC_ROOT, environ), "collected into the image at build time"
        )
    if project.get("serves_static") == "cloudsite":
        _whitenoise(layer)

    # -- the [processes]' tasks: Celery on the stack's broker, and nothing lost across a deploy
    _tasks(layer, environ=environ)

    # -- logging and the deployments app
    if "LOGGING" not in values:
        from cloudsite.runtime.jsonlog import logging_for

        level = environ.get("DJANGO_LOG_LEVEL", "INFO")
        layer.force("LOGGING", logging_for(level), "JSON lines on stdout, for CloudWatch Logs")
    layer.extend("INSTALLED_APPS", [APP], "migrate_once, migrations once per deployment")
    return changes


class _Layer:
    def __init__(self, values: dict[str, Any], changes: list[str]) -> None:
        self.values, self.changes = values, changes

    def force(self, name: str, value: Any, why: str, *, quiet: bool = False) -> None:
        if self.values.get(name, _MISSING) != value and not quiet:
            self.changes.append(f"{name} = {_show(value)}: {why}")
        self.values[name] = value

    def default(self, name: str, value: Any, why: str) -> None:
        if name in self.values:
            return
        self.values[name] = value
        self.changes.append(f"{name} = {_show(value)}: {why} (the project does not set it)")

    def extend(self, name: str, items: list[str], why: str) -> None:
        current = list(self.values.get(name, []))
        added = [item for item in items if item not in current]
        if added:
            self.values[name] = current + added
            self.changes.append(f"{name} += {', '.join(added)}: {why}")


_MISSING: Final = object()


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{...}"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _database(
    layer: _Layer, *, project: Mapping[str, Any], environ: Mapping[str, str], build: bool
) -> None:
    databases = {alias: dict(config) for alias, config in layer.values.get("DATABASES", {}).items()}
    url = environ.get("DATABASE_URL", "")
    if url and (not build or project.get("database", {}).get("needed")):
        databases["default"] = database_from(url)
        layer.values["DATABASES"] = databases
        layer.changes.append(
            "DATABASES['default']: from DATABASE_URL (the RDS secret, through the pipe)"
        )
        return
    default = databases.get("default", {})
    if str(default.get("ENGINE", "")).endswith("sqlite3") and default.get("NAME") != ":memory:":
        # The image is read-only: each container starts from a copy of the database the build
        # migrated (bin/start copies it to the tmpfs).
        default["NAME"] = place(SQLITE_SEED if build else SQLITE_RUN, environ)
        layer.values["DATABASES"] = databases
        layer.changes.append(
            f"DATABASES['default']['NAME'] = {default['NAME']!r}: SQLite in a read-only image "
            "starts from the build's copy"
        )


def _server(project: Mapping[str, Any]) -> bool:
    """The site has a database server (RDS, or `cloudsite local`'s PostgreSQL)."""
    database = project.get("database", {})
    return bool(database.get("server") or database.get("needed"))


def _per_process_cache(values: Mapping[str, Any], alias: str) -> bool:
    cache = values.get("CACHES", {}).get(alias, {})
    return str(cache.get("BACKEND", PER_PROCESS_CACHES[0])) in PER_PROCESS_CACHES


def _sessions(layer: _Layer, *, server: bool) -> None:
    """Sessions and messages that every instance sees. Without a database server, each
    container's SQLite copy would hold its own sessions, so a login would last one request in
    two behind the load balancer: sessions go in signed cookies (signed with the site's key,
    readable by the client, not revocable before expiry: docs/data.md). With a server, sessions
    kept in one process's cache are moved to the database: a logout on one instance would
    leave the session alive on the others."""
    if SESSION_MIDDLEWARE not in layer.values.get("MIDDLEWARE", []):
        return
    engine = str(layer.values.get("SESSION_ENGINE", SESSIONS + "db"))
    cached = engine in (SESSIONS + "cache", SESSIONS + "cached_db")
    local = engine == SESSIONS + "file" or (
        cached
        and _per_process_cache(layer.values, layer.values.get("SESSION_CACHE_ALIAS", "default"))
    )
    if not server and (local or engine in (SESSIONS + "db", SESSIONS + "cached_db")):
        layer.force(
            "SESSION_ENGINE",
            SESSIONS + "signed_cookies",
            "no database server: a session must not live in one container's SQLite",
        )
        storage = str(layer.values.get("MESSAGE_STORAGE", ""))
        if not storage or storage.endswith(("fallback.FallbackStorage", "session.SessionStorage")):
            layer.force("MESSAGE_STORAGE", COOKIE_MESSAGES, "messages travel with the request")
    elif server and local:
        layer.force(
            "SESSION_ENGINE",
            SESSIONS + "db",
            f"{engine.rsplit('.', 1)[-1]} sessions live in one process; all instances read the "
            "database",
        )


def _media(layer: _Layer, *, project: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Uploads in the stack's bucket, through django-storages, with signed URLs: the default
    storage, unless the project chose one of its own (an S3 one reads the same variables)."""
    if project.get("media") != "s3":
        return
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise LayerError(
            "AWS_STORAGE_BUCKET_NAME is not set: the deploy hooks give it with the media bucket "
            "(media = s3); for a local run pass it with -e"
        )
    options = {
        "bucket_name": bucket,
        "region_name": environ.get("AWS_S3_REGION_NAME", ""),
        "signature_version": "s3v4",  # older boto3 presigns with SigV2, which S3 refuses
        "file_overwrite": False,  # a second upload of a name gets a new name, as on disk
        "querystring_auth": True,  # the bucket is private: every URL is signed
        "default_acl": None,  # ACLs are off on the bucket (bucket owner enforced)
    }
    if environ.get("AWS_S3_ENDPOINT_URL"):  # `cloudsite local`'s stand-in, or a build
        options["endpoint_url"] = environ["AWS_S3_ENDPOINT_URL"]
        options["addressing_style"] = environ.get("AWS_S3_ADDRESSING_STYLE", "path")
    old_form = "DEFAULT_FILE_STORAGE" in layer.values or "STATICFILES_STORAGE" in layer.values
    if old_form:  # Django 4.2's older settings: STORAGES may not be set beside them
        current = str(layer.values.get("DEFAULT_FILE_STORAGE", ""))
        if current and not current.endswith("FileSystemStorage"):
            return
        layer.force("DEFAULT_FILE_STORAGE", S3_STORAGE, "uploads go to the media bucket")
        for name, value in options.items():  # django-storages' settings of the same meaning
            layer.force(OLD_S3_SETTINGS[name], value, "the media bucket", quiet=True)
        return
    from django.conf import global_settings

    storages = {
        k: dict(v) for k, v in layer.values.get("STORAGES", global_settings.STORAGES).items()
    }
    default = storages.setdefault("default", {})
    if not str(default.get("BACKEND", "")).endswith("FileSystemStorage") and default.get("BACKEND"):
        return  # the project's own (its S3 storage reads AWS_STORAGE_BUCKET_NAME itself)
    storages["default"] = {"BACKEND": S3_STORAGE, "OPTIONS": options}
    layer.values["STORAGES"] = storages
    layer.changes.append(
        f"STORAGES['default'] = S3Storage in {bucket}: uploads outlive the containers, signed URLs"
    )


def _tasks(layer: _Layer, *, environ: Mapping[str, str]) -> None:
    """Celery (read through its CELERY_ namespace, as `app.config_from_object(..., namespace=
    "CELERY")` does) on the broker the hooks name (CLOUDSITE_BROKER), so that a task enqueued
    before a deploy runs exactly once after it (docs/background.md):

    - late acknowledgement, and a task whose worker is lost (killed past its stop grace) goes
      back to the queue instead of being dropped;
    - one message prefetched per worker process, so a stopping worker holds back few;
    - the broker's visibility timeout above the longest task (task_timeout_seconds) plus the
      stop grace, so a task still running is never handed to a second worker."""
    broker = environ.get("CLOUDSITE_BROKER", "")
    if broker not in ("sqs", "redis"):
        return
    timeout = int(environ.get("CLOUDSITE_TASK_TIMEOUT", "1800"))
    url = environ.get("CELERY_BROKER_URL", "")
    if url:
        layer.force("CELERY_BROKER_URL", url, f"the stack's broker ({broker})", quiet=True)
    options = dict(layer.values.get("CELERY_BROKER_TRANSPORT_OPTIONS") or {})
    options["visibility_timeout"] = timeout + 60
    if broker == "sqs":
        region = environ.get("AWS_DEFAULT_REGION", environ.get("AWS_REGION", "us-east-1"))
        queue = environ.get("CLOUDSITE_QUEUE_URL", "")
        options.update(
            region=region,
            # kombu finds the queue by its URL: no CreateQueue or ListQueues, which the site
            # role does not have, and the stack's queue settings are the ones that apply.
            predefined_queues={"celery": {"url": queue}},
            wait_time_seconds=10,
            # kombu waits this long before its next receive; with 10 s long polls an idle
            # worker still asks about every 10 s, and a busy one is not held to a poll a
            # second (kombu's default of 1 s caps a worker at its prefetch per second)
            polling_interval=0.1,
            is_secure=not environ.get("CLOUDSITE_QUEUE_INSECURE"),
        )
        backend = str(layer.values.get("CELERY_RESULT_BACKEND", "") or "")
        if backend.startswith("sqs"):
            layer.force("CELERY_RESULT_BACKEND", None, "SQS keeps no results")
    layer.force(
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        options,
        f"{broker}: visibility timeout {timeout + 60} s, above the longest task and its stop grace",
    )
    layer.force("CELERY_TASK_ACKS_LATE", True, "a task is acknowledged once it has run")
    layer.force("CELERY_TASK_REJECT_ON_WORKER_LOST", True, "a task whose worker died runs again")
    layer.force("CELERY_WORKER_PREFETCH_MULTIPLIER", 1, "a stopping worker holds back one task")
    layer.default("CELERY_TASK_TIME_LIMIT", timeout, "no task outlives the visibility timeout")
    layer.default(
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP", True, "a worker waits for its broker"
    )


# libpq's own bounds on a PostgreSQL connection. A database that restarts or fails over (RDS
# Multi-AZ, a maintenance reboot, `cloudsite local`'s container) can leave a kept connection
# half-open: nothing answers and nothing says so, and a request would wait on it for the
# kernel's 15 minutes. tcp_user_timeout ends such a connection after 10 s of unanswered data,
# keepalives find an idle one within a minute, and a new one gives up after 5 s.
POSTGRES_OPTIONS: Final = {
    "connect_timeout": 5,
    "tcp_user_timeout": 10_000,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def database_from(url: str) -> dict[str, Any]:
    """A DATABASES entry from a URL, with persistent, health-checked connections (and, on
    PostgreSQL, libpq's timeouts: POSTGRES_OPTIONS)."""
    import dj_database_url

    entry: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if "postgresql" in str(entry.get("ENGINE", "")):
        entry["OPTIONS"] = {**POSTGRES_OPTIONS, **(entry.get("OPTIONS") or {})}
    return entry


def _filesystem_static(values: Mapping[str, Any]) -> bool:
    storage = values.get("STORAGES", {}).get("staticfiles", {}).get("BACKEND", "")
    return not storage or storage.startswith(("django.contrib.staticfiles.", "whitenoise."))


def _whitenoise(layer: _Layer) -> None:
    middleware = list(layer.values.get("MIDDLEWARE", []))
    if WHITENOISE not in middleware:
        security = "django.middleware.security.SecurityMiddleware"
        at = middleware.index(security) + 1 if security in middleware else 0
        middleware.insert(at, WHITENOISE)
        layer.values["MIDDLEWARE"] = middleware
        layer.changes.append(
            "MIDDLEWARE += whitenoise: serves the static files the build collected"
        )
    if "STATICFILES_STORAGE" in layer.values:  # Django 4.2's older form of STORAGES
        if layer.values["STATICFILES_STORAGE"] in DEFAULT_STORAGES:
            layer.force("STATICFILES_STORAGE", WHITENOISE_STORAGE, "hashed, compressed files")
        return
    from django.conf import global_settings

    storages = {
        k: dict(v) for k, v in layer.values.get("STORAGES", global_settings.STORAGES).items()
    }
    static = storages.setdefault("staticfiles", {"BACKEND": DEFAULT_STORAGES[0]})
    if static.get("BACKEND") in DEFAULT_STORAGES:
        static["BACKEND"] = WHITENOISE_STORAGE
        layer.values["STORAGES"] = storages
        layer.changes.append(
            "STORAGES['staticfiles'] = whitenoise's: hashed names, compressed copies, far-future "
            "caching"
        )
