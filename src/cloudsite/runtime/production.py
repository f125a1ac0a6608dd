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
        if project.get("database", {}).get("needed"):
            environ.setdefault("DATABASE_URL", BUILD_DATABASE_URL)
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

    # -- the database
    _database(layer, project=project, environ=environ, build=build)

    # -- static files, collected into the image at build time
    if _filesystem_static(values):
        layer.force(
            "STATIC_ROOT", place(STATIC_ROOT, environ), "collected into the image at build time"
        )
    if project.get("serves_static") == "cloudsite":
        _whitenoise(layer)

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


def database_from(url: str) -> dict[str, Any]:
    """A DATABASES entry from a URL, with persistent, health-checked connections."""
    import dj_database_url

    return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))


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
