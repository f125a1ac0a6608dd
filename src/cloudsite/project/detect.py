"""Project detection: what a source tree holds, read from its files. It runs nothing of the
user's and needs no AWS.

    detect(root, keys) -> Project
      1. manage.py: the configured one, else the shallowest within 3 folders (two at the
         same depth are ambiguous)
      2. the settings module: from manage.py, wsgi.py or asgi.py (else pyproject.toml's
         tool tables), preferring a production module (config.settings.production beside
         config.settings.local)
      3. the application: WSGI_APPLICATION, else a wsgi.py beside the settings; an ASGI one
         only when there is no WSGI application
      4. the dependency manifest and the Python version (manifests.py)
      5. what the settings already do: gunicorn, whitenoise, psycopg, dj-database-url,
         django-environ; STATIC_ROOT and STORAGES; whether a database server is needed

Each failure is a ProjectError whose `what` is the configuration key that settles it.
"""

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import ProjectError
from cloudsite.project import manifests
from cloudsite.project.background import Tasks, tasks_facts
from cloudsite.project.data import Data, data_facts
from cloudsite.project.manifests import Dependencies
from cloudsite.project.pysource import SettingsFacts, settings_module_named
from cloudsite.project.python import PythonChoice
from cloudsite.project.python import choose as choose_python
from cloudsite.runtime import pythons

MAX_DEPTH: Final = 3
# Folders that hold no project code: virtualenvs, installed packages, build output, caches.
SKIPPED: Final = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        "env",
        ".env",
        "node_modules",
        "site-packages",
        "__pycache__",
        ".tox",
        ".nox",
        "build",
        "dist",
        ".cloudsite",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "staticfiles",
    }
)
_PRODUCTION: Final = re.compile(r"^(prod|production|live|deploy|deployment)$")
# Packages whose presence changes what the runtime layer adds (docs/your-project.md).
KNOWN: Final = (
    "gunicorn",
    "uvicorn",
    "whitenoise",
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "psycopg-binary",
    "dj-database-url",
    "django-environ",
    "django-storages",
    "channels",
    "daphne",
    "wagtail",
)
# What the runtime layer sets itself (cloudsite.runtime.settings), so a settings file that
# reads them with no default is fine.
PROVIDED_ENV: Final = frozenset(
    {
        "DJANGO_SECRET_KEY",
        "SECRET_KEY",
        "DJANGO_SECRET_KEY_FALLBACKS",
        "DATABASE_URL",
        "DJANGO_ALLOWED_HOSTS",
        "ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "DJANGO_SETTINGS_MODULE",
        "PORT",
        "WEB_CONCURRENCY",
    }
)


@dataclass(frozen=True)
class Keys:
    """The configuration keys that override detection ('' = detect)."""

    manage_py: str = ""
    settings_module: str = ""
    application: str = ""
    requirements: str = ""
    python_version: str = ""


@dataclass(frozen=True)
class Database:
    needed: bool  # the site cannot run without a database server
    engine: str  # postgresql | mysql | sqlite | ...
    reason: str  # what in the settings says so


@dataclass(frozen=True)
class Project:
    root: Path
    manage_py: str  # relative to root, posix
    app_dir: str  # the folder holding manage.py, the import root ("." at the root)
    settings: str  # the production settings module the runtime layer wraps
    settings_from: str
    server: str  # wsgi | asgi
    application: str  # module:attribute
    application_from: str
    dependencies: Dependencies
    python: PythonChoice
    uses: tuple[str, ...]  # of KNOWN, what the project already depends on
    static_root: bool  # the settings set STATIC_ROOT
    static_storage: str  # the staticfiles backend the settings name, or ''
    serves_static: str  # "project" (its own whitenoise, S3, a CDN) or "cloudsite"
    database: Database
    data: Data  # what the apps write, the files they store, sessions, cache (data.py)
    tasks: Tasks  # a Celery app, other task queues, REDIS_URL (background.py)
    secret_key_env: tuple[str, ...]  # the variables SECRET_KEY is read from
    required_env: tuple[str, ...]  # read with no default, and not provided by cloudsite
    dockerfile: bool  # the project has a Dockerfile of its own at its root
    django_version: str  # from startproject's header, when present
    notes: tuple[str, ...]  # things worth saying in `init` and `plan`

    def summary(self) -> list[tuple[str, str]]:
        """(what, found) rows for `init` and `plan`."""
        rows = [
            ("manage.py", self.manage_py),
            ("settings", f"{self.settings}  (from {self.settings_from})"),
            (
                "application",
                f"{self.application}  ({self.server.upper()}, from {self.application_from})",
            ),
            ("dependencies", self.dependencies.describe()),
            (
                "python",
                f"{self.python.version}  "
                f"({self.python.source}{': ' + self.python.asked if self.python.asked else ''})",
            ),
            ("base image", _base_image(self.python.version)),
            (
                "database",
                ("needs " if self.database.needed else "")
                + f"{self.database.engine}  ({self.database.reason})",
            ),
            ("writes", _writes(self.data)),
            ("files", self.data.files or "none stored"),
            ("cache", self.data.cache_note()),
            ("tasks", self.tasks.describe()),
            (
                "static files",
                "served by the project's own set-up"
                if self.serves_static == "project"
                else "served by whitenoise, added by cloudsite",
            ),
        ]
        if self.uses:
            rows.append(("already uses", ", ".join(self.uses)))
        return rows

    def as_json(self) -> dict[str, Any]:
        """What the image build reads (.cloudsite/project.json, docs/your-project.md)."""
        deps = self.dependencies
        return {
            "manage_py": self.manage_py,
            "app_dir": self.app_dir,
            "settings": self.settings,
            "server": self.server,
            "application": self.application,
            "dependencies": {
                "kind": deps.kind,
                "manifest": deps.manifest,
                "files": list(deps.files),
                "packages": list(deps.packages),
            },
            "python": self.python.version,
            "uses": list(self.uses),
            "serves_static": self.serves_static,
            "database": {"needed": self.database.needed, "engine": self.database.engine},
            "secret_key_env": list(self.secret_key_env),
        }


def detect(root: Path, keys: Keys = Keys()) -> Project:
    """Read the tree at root (the folder `source_dir` names); see the module docstring."""
    root = _checked_root(root)
    manage_py = keys.manage_py or find_manage_py(root)
    if not (root / manage_py).is_file():
        raise ProjectError(
            "manage_py",
            f"{manage_py}: no such file in {root}",
            hint="the path is relative to source_dir",
        )
    app = root / manage_py
    app_dir = app.parent
    if (app_dir / "cloudsite" / "__init__.py").is_file():
        raise ProjectError(
            "manage_py",
            "the project has a package named 'cloudsite', the name of the runtime layer's",
            hint="rename the package; cloudsite's own modules are imported under that name",
        )
    settings, settings_from = settings_module(app_dir, configured=keys.settings_module)
    facts = SettingsFacts.read(module_file(app_dir, settings) or app, resolve=_resolver(app_dir))
    server, application, application_from = _application(app_dir, settings, facts, keys.application)
    manifest_root = root if _has_manifest(root) or not _has_manifest(app_dir) else app_dir
    deps = manifests.dependencies(
        manifest_root, configured=keys.requirements, django_version=facts.django_version
    )
    if manifest_root != root:
        deps = _rebased(deps, manifest_root.relative_to(root).as_posix())
    python = choose_python(manifest_root, configured=keys.python_version)
    storage = _static_storage(facts)
    uses = _uses(deps, facts)
    return Project(
        root=root,
        manage_py=Path(manage_py).as_posix(),
        app_dir=app_dir.relative_to(root).as_posix(),
        settings=settings,
        settings_from=settings_from,
        server=server,
        application=application,
        application_from=application_from,
        dependencies=deps,
        python=python,
        uses=uses,
        static_root="STATIC_ROOT" in facts.assigned,
        static_storage=storage,
        serves_static=_serves_static(facts, storage),
        database=database_need(facts),
        data=data_facts(app_dir, facts, uses=uses),
        tasks=tasks_facts(app_dir, facts),
        secret_key_env=tuple(dict.fromkeys(r.name for r in facts.env_in("SECRET_KEY"))),
        required_env=tuple(
            sorted({r.name for r in facts.env if r.required and r.name not in PROVIDED_ENV})
        ),
        dockerfile=(root / "Dockerfile").is_file(),
        django_version=facts.django_version,
        notes=(
            *python.warnings,
            *_notes(facts, deps, dockerfile=(root / "Dockerfile").is_file()),
        ),
    )


def _base_image(version: str) -> str:
    """The image the pipeline's build starts from (runtime/pythons.toml), and the one
    `cloudsite build` does here when a variable names another."""
    pinned = pythons.table()[version].image
    image, source = pythons.base_image(version)
    return pinned if source == "pinned" else f"{pinned}  (here: {image}, from {source})"


def _writes(data: Data) -> str:
    if not data.writers:
        return "nothing at run time, as far as the installed apps tell"
    shown = ", ".join(a.removeprefix("django.contrib.") for a in data.writers[:6])
    more = f" and {len(data.writers) - 6} more" if len(data.writers) > 6 else ""
    return f"{shown}{more}"


def _checked_root(root: Path) -> Path:
    root = root.resolve()
    if not root.is_dir():
        raise ProjectError(
            "source_dir", f"{root}: no such folder", hint="source_dir is relative to cloudsite.toml"
        )
    home = Path(os.path.expanduser("~")).resolve()
    if root == home or root in home.parents:
        raise ProjectError(
            "source_dir",
            f"{root} is your home folder or above it: cloudsite would ship all of it",
            hint="run cloudsite in your Django project's own folder",
        )
    return root


def find_manage_py(root: Path) -> str:
    """The shallowest manage.py within MAX_DEPTH folders of root, as a relative path."""
    level = [root]
    for _depth in range(MAX_DEPTH + 1):
        found = sorted(p / "manage.py" for p in level if (p / "manage.py").is_file())
        if len(found) == 1:
            return found[0].relative_to(root).as_posix()
        if len(found) > 1:
            listed = ", ".join(p.relative_to(root).as_posix() for p in found)
            raise ProjectError(
                "manage_py",
                f"{len(found)} manage.py files at the same depth: {listed}",
                hint=f'set manage_py = "{found[0].relative_to(root).as_posix()}" in cloudsite.toml',
            )
        level = [child for folder in level for child in _subfolders(folder)]
    raise ProjectError(
        "manage_py",
        f"not a Django project: no manage.py in {root} or up to {MAX_DEPTH} folders below it",
        hint="run cloudsite in your Django project's folder, or set manage_py in cloudsite.toml",
    )


def _subfolders(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    return [
        Path(e.path)
        for e in entries
        if e.is_dir(follow_symlinks=False)
        and e.name not in SKIPPED
        and not (Path(e.path) / "pyvenv.cfg").exists()
    ]


def module_file(app_dir: Path, dotted: str) -> Path | None:
    """The file of a dotted module under the import root, or None."""
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", dotted):
        return None
    base = app_dir.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def settings_module(app_dir: Path, *, configured: str) -> tuple[str, str]:
    """(module, where it was found). A production module is preferred: one named so, or a
    production sibling of the module the project names (config.settings.local ->
    config.settings.production), or a production module inside a settings package."""
    if configured:
        if module_file(app_dir, configured) is None:
            raise ProjectError(
                "settings_module",
                f"'{configured}' is not a module under {app_dir}",
                hint="give its dotted name as manage.py's folder imports it, e.g. mysite.settings",
            )
        return configured, "settings_module"
    named = _named_settings(app_dir) or _pyproject_settings(app_dir)
    if not named:
        raise ProjectError(
            "settings_module",
            "manage.py, wsgi.py and asgi.py set no DJANGO_SETTINGS_MODULE",
            hint='set settings_module = "mysite.settings" in cloudsite.toml',
        )
    for module, source in named:
        if module_file(app_dir, module) is None:
            raise ProjectError(
                "settings_module",
                f"{source} names {module}, which is not a module under {app_dir}",
                hint="fix the name there, or set settings_module in cloudsite.toml",
            )
    production = [(m, s) for m, s in named if _PRODUCTION.match(m.rsplit(".", 1)[-1])]
    if production:
        return production[0]
    module, source = named[0]
    siblings = _production_modules(app_dir, module)
    if len(siblings) > 1:
        raise ProjectError(
            "settings_module",
            f"{len(siblings)} production settings beside {module}: {', '.join(siblings)}",
            hint=f'set settings_module = "{siblings[0]}" in cloudsite.toml',
        )
    if siblings:
        return siblings[0], f"{source} names {module}; its production sibling"
    return module, source


def _named_settings(app_dir: Path) -> list[tuple[str, str]]:
    """(module, file) from manage.py, then every wsgi.py and asgi.py within two folders."""
    found: list[tuple[str, str]] = []
    sources = [app_dir / "manage.py"]
    for pattern in ("*/wsgi.py", "*/asgi.py", "*/*/wsgi.py", "*/*/asgi.py"):
        sources += sorted(
            p for p in app_dir.glob(pattern) if not set(p.relative_to(app_dir).parts) & SKIPPED
        )
    for path in sources:
        module = settings_module_named(path)
        if module and module not in [m for m, _ in found]:
            found.append((module, path.relative_to(app_dir).as_posix()))
    return found


def _pyproject_settings(app_dir: Path) -> list[tuple[str, str]]:
    """The settings module a pyproject.toml names, for tools (django-stubs, pytest-django),
    when manage.py and the WSGI/ASGI modules name none."""
    import tomllib

    path = app_dir / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    for table, key in (("django-stubs", "django_settings_module"), ("django", "settings")):
        value = tool.get(table, {}).get(key)
        if isinstance(value, str) and value:
            return [(value, f"pyproject.toml [tool.{table}]")]
    value = tool.get("pytest", {}).get("ini_options", {}).get("DJANGO_SETTINGS_MODULE")
    if isinstance(value, str) and value:
        return [(value, "pyproject.toml [tool.pytest.ini_options]")]
    return []


def _production_modules(app_dir: Path, module: str) -> list[str]:
    package = (
        module
        if (app_dir.joinpath(*module.split(".")) / "__init__.py").is_file()
        else module.rpartition(".")[0]
    )
    if not package:
        return []
    folder = app_dir.joinpath(*package.split("."))
    return [
        f"{package}.{p.stem}"
        for p in sorted(folder.glob("*.py"))
        if _PRODUCTION.match(p.stem) and f"{package}.{p.stem}" != module
    ]


def _resolver(app_dir: Path) -> Any:
    def resolve(path: Path, node: ast.ImportFrom) -> Path | None:
        parts = list(path.relative_to(app_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if node.level:
            base = (
                parts[: len(parts) - node.level]
                if path.name != "__init__.py"
                else parts[: len(parts) - node.level + 1]
            )
            dotted = ".".join([*base, *([node.module] if node.module else [])])
        else:
            dotted = node.module or ""
        return module_file(app_dir, dotted)

    return resolve


def _application(
    app_dir: Path, settings: str, facts: SettingsFacts, configured: str
) -> tuple[str, str, str]:
    """(server, module:attribute, where it was found)."""
    if configured:
        module, _, attr = configured.replace(":", ".").rpartition(".")
        if not module or module_file(app_dir, module) is None:
            raise ProjectError(
                "application",
                f"'{configured}' does not name a module under {app_dir}",
                hint="write it as module:attribute, e.g. mysite.wsgi:application",
            )
        server = "asgi" if "asgi" in module.rsplit(".", 1)[-1] else "wsgi"
        return server, f"{module}:{attr}", "application"
    for setting, server in (("WSGI_APPLICATION", "wsgi"), ("ASGI_APPLICATION", "asgi")):
        value = facts.string_of(setting)
        module, _, attr = value.rpartition(".")
        if module and module_file(app_dir, module) is not None:
            return server, f"{module}:{attr}", setting
    top = settings.split(".")[0]
    for server in ("wsgi", "asgi"):
        if module_file(app_dir, f"{top}.{server}") is not None:
            return server, f"{top}.{server}:application", f"{top}/{server}.py"
    raise ProjectError(
        "application",
        f"no WSGI or ASGI application: {settings} sets no WSGI_APPLICATION and {top}/ has no "
        "wsgi.py",
        hint='set application = "mysite.wsgi:application" in cloudsite.toml',
    )


def _has_manifest(folder: Path) -> bool:
    names = ("requirements.txt", "pyproject.toml", "Pipfile.lock", "requirements")
    return any((folder / name).exists() for name in names) or any(folder.glob("requirements*.txt"))


def _rebased(deps: Dependencies, folder: str) -> Dependencies:
    from dataclasses import replace

    return replace(
        deps,
        manifest=f"{folder}/{deps.manifest}" if deps.manifest else "",
        files=tuple(f"{folder}/{f}" for f in deps.files),
    )


def _uses(deps: Dependencies, facts: SettingsFacts) -> tuple[str, ...]:
    names = set(deps.names)
    if any(s.startswith("whitenoise.") for s in facts.strings):
        names.add("whitenoise")
    return tuple(k for k in KNOWN if k in names)


def _static_storage(facts: SettingsFacts) -> str:
    """The staticfiles backend the settings name (STORAGES or the old STATICFILES_STORAGE)."""
    value = facts.assigned.get("STORAGES")
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "staticfiles":
                backends = [s for s in _strings(item) if "." in s and s[0].isalpha()]
                return backends[0] if backends else ""
    return facts.string_of("STATICFILES_STORAGE")


def _strings(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _serves_static(facts: SettingsFacts, storage: str) -> str:
    """ "project" when the settings already serve static files (whitenoise, S3, a CDN)."""
    if "whitenoise.middleware.WhiteNoiseMiddleware" in facts.strings_in("MIDDLEWARE"):
        return "project"
    if storage and not storage.startswith(("django.contrib.staticfiles.", "whitenoise.")):
        return "project"
    if facts.string_of("STATIC_URL").startswith(("http://", "https://", "//")):
        return "project"
    return "cloudsite"


def database_need(facts: SettingsFacts) -> Database:
    """Whether the site needs a database server, from its DATABASES setting."""
    strings = facts.strings_in("DATABASES")
    engines = [s for s in strings if s.startswith("django.db.backends.") or "postgis" in s]
    reads = [
        r for r in facts.env_in("DATABASES") if r.call.startswith(("env.db", "dj_database_url"))
    ]
    for engine in engines:
        if "postgres" in engine or "postgis" in engine:
            return Database(True, "postgresql", f"DATABASES names {engine}")
        if "mysql" in engine or "oracle" in engine:
            return Database(True, engine.rsplit(".", 1)[-1], f"DATABASES names {engine}")
    for read in reads:
        if read.required:
            return Database(True, "postgresql", f"DATABASES reads {read.name} with no default")
        if read.default.startswith(("postgres", "pgsql", "postgis")):
            return Database(
                True, "postgresql", f"DATABASES defaults to {read.default.split(':')[0]}"
            )
    if not facts.assigned.get("DATABASES"):
        return Database(False, "none", "no DATABASES setting")
    return Database(False, "sqlite", "DATABASES is SQLite, a file in the image")


def _notes(facts: SettingsFacts, deps: Dependencies, *, dockerfile: bool) -> list[str]:
    notes = []
    if dockerfile:
        notes.append(
            "the project has a Dockerfile of its own; cloudsite builds its own image "
            '(dockerfile = "Dockerfile" in cloudsite.toml uses yours)'
        )
    if not deps.locked:
        notes.append(
            f"{deps.manifest or 'the dependencies'} pins no exact versions: each build may get "
            "newer ones (lock them with pip-compile --generate-hashes, uv or poetry)"
        )
    for path in facts.unreadable:
        notes.append(f"{path.name} is not valid Python; the build will say where")
    return notes
