"""The build stage's checks and preparation, run once the dependencies and the project are in:

    CLOUDSITE_PHASE=build python -m cloudsite.runtime.prepare        (the Dockerfile)

    1. load the settings through the production layer, and print what the layer changed
    2. collectstatic into the image, with no database and no real secret
    3. import the application (the project's wsgi.py or asgi.py)
    4. `check --deploy`: errors fail the build, each warning is one line naming its setting
    5. the seed database of a project on SQLite: migrated here, copied by each container
    6. a first GET / (and one static file) with DEBUG off, as the load balancer will send it
    7. the project's own build_command, when the configuration names one
    8. byte-compile the project and the layer

Each failure prints `cloudsite: error: WHAT` and `cloudsite: hint: HINT` (build.py and `up`
report those lines) and exits 2.
"""

import os
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from cloudsite.runtime.production import BUILD_HOST, SQLITE_SEED, STATIC_ROOT, load_project, place

DATABASE_ERRORS = ("OperationalError", "ProgrammingError", "InterfaceError", "DatabaseError")


def fail(what: str, hint: str) -> NoReturn:
    print(f"cloudsite: error: {what}", file=sys.stderr, flush=True)
    print(f"cloudsite: hint: {hint}", file=sys.stderr, flush=True)
    sys.exit(2)


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def missing_variable(error: BaseException) -> str:
    """The environment variable an import failed for, when the error names one."""
    text = str(error)
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        return error.args[0] if re.fullmatch(r"[A-Z][A-Z0-9_]*", error.args[0]) else ""
    for pattern in (
        r"Set the (\w+) environment variable",  # django-environ
        r"^(\w+) not found\. Declare it as envvar",  # python-decouple
        r"(?:environment variable|env var|variable) '?(\w+)'? (?:is )?(?:not set|missing|required)",
    ):
        if match := re.search(pattern, text, re.IGNORECASE):
            return match.group(1)
    return ""


def load_settings(project: dict[str, Any]) -> list[str]:
    """1. django.setup() through the layer; the layer's changes."""
    import django

    try:
        django.setup()
        from django.conf import settings

        return list(getattr(settings, "CLOUDSITE_CHANGES", []))
    except Exception as error:
        name = missing_variable(error)
        module = project["settings"]
        if name:
            fail(
                f"settings: importing {module} failed: {name} is not set",
                f'the build needs a value for it, not a secret: environment = ["{name}=..."] in '
                "cloudsite.toml gives it to the build and to the site (a secret belongs in SSM "
                "or Secrets Manager, read at run time)",
            )
        fail_if_a_library_is_missing(f"settings: importing {module}", error)
        if isinstance(error, ModuleNotFoundError):
            fail(
                f"settings: importing {module} failed: no module named {error.name!r}",
                "is it missing from the project's dependency manifest?",
            )
        traceback.print_exc()
        fail(
            f"settings: importing {module} failed: {type(error).__name__}: {_first_line(error)}",
            "the settings must import with DEBUG off and no database; the traceback above says "
            "where",
        )


SEARCH = "https://packages.debian.org/search?searchon=contents&keywords={}"
_LIBRARY = re.compile(r"([\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file")


def fail_if_a_library_is_missing(what: str, error: BaseException) -> None:
    """The one line for an import that failed because the loader could not find a shared
    library: which one, and where to look for the Debian package that ships it."""
    seen: BaseException | None = error
    while seen is not None:
        if match := _LIBRARY.search(str(seen)):
            library = match.group(1)
            fail(
                f"{what} failed: {library} is missing: compiled code the project imports loads it",
                f"add the Debian package that ships {library} to system_packages in "
                f"cloudsite.toml ({SEARCH.format(library)})",
            )
        seen = seen.__cause__ or seen.__context__


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


def import_application(project: dict[str, Any]) -> Any:
    """3. The project's application, wrapped by the layer."""
    try:
        if project["server"] == "asgi":
            from cloudsite.runtime import asgi

            return asgi.load(project)
        from cloudsite.runtime import wsgi

        return wsgi.load(project)
    except Exception as error:
        traceback.print_exc()
        fail_if_a_library_is_missing(f"application: importing {project['application']}", error)
        fail(
            f"application: importing {project['application']} failed: {type(error).__name__}: "
            f"{_first_line(error)}",
            'fix it, or name the right one with application = "module:attribute"',
        )


def collect_static() -> str:
    """2. collectstatic, when the static files live in the image."""
    from django.conf import settings
    from django.core.management import call_command

    if place(STATIC_ROOT) != settings.STATIC_ROOT:
        return "skipped: the project stores its static files elsewhere"
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except Exception as error:
        traceback.print_exc()
        fail(
            f"collectstatic failed: {_static_problem(error)}",
            "a file a stylesheet refers to must exist (whitenoise's manifest storage checks each "
            "one); collectstatic runs with no database and a throwaway secret key",
        )
    count = sum(1 for p in Path(settings.STATIC_ROOT).rglob("*") if p.is_file())
    return f"{count} files in {settings.STATIC_ROOT}"


def _static_problem(error: BaseException) -> str:
    """Django's message for a missing file a stylesheet refers to, in one line."""
    text = str(error)
    found = re.search(
        r"The CSS file '([^']+)' references a file which could not be found:\s+(\S+)", text
    )
    if found:
        return f"{found.group(1)} refers to {found.group(2)}, which does not exist"
    return f"{type(error).__name__}: {re.sub(r' with <[^>]+>', '', _first_line(error))}"


def check_deploy() -> str:
    """4. Django's deployment checks through the layer."""
    from django.core import checks

    messages = [m for m in checks.run_checks(include_deployment_checks=True) if not m.is_silenced()]
    errors = [m for m in messages if m.is_serious()]
    for message in messages:
        level = "error" if message.is_serious() else "warning"
        text = _first_line(Exception(message.msg))
        print(
            f"cloudsite: {level}: check --deploy: {message.id}: {text} (the project's own code or "
            "settings)",
            file=sys.stderr,
        )
    if errors:
        fail(
            f"check --deploy: {len(errors)} error(s), first {errors[0].id}",
            "each is listed above; fix them in the project, or silence one on purpose with "
            "SILENCED_SYSTEM_CHECKS",
        )
    return f"{len(messages)} issue(s)"


def seed_database() -> str:
    """5. A project on SQLite gets its database migrated into the image."""
    from django.conf import settings
    from django.core.management import call_command

    seed = place(SQLITE_SEED)
    if settings.DATABASES.get("default", {}).get("NAME") != seed:
        return "none: the site's database is a server"
    Path(seed).parent.mkdir(parents=True, exist_ok=True)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except Exception as error:
        fail(
            f"migrate (the seed database) failed: {type(error).__name__}: {_first_line(error)}",
            "the migrations must run on an empty SQLite database",
        )
    os.chmod(seed, 0o644)
    return f"migrated into {seed}"


def first_requests(app: Any, project: dict[str, Any]) -> str:
    """6. GET / and a static file, with DEBUG off, as the load balancer forwards them."""
    if project["server"] != "wsgi":
        return "skipped (ASGI)"
    from django.conf import settings
    from django.core.signals import got_request_exception

    errors: list[BaseException] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        errors.append(sys.exc_info()[1] or RuntimeError("unknown"))

    got_request_exception.connect(record)
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    host = hosts[0] if hosts else BUILD_HOST
    status = _get(app, "/", host=host)
    if status >= 500:
        error = errors[-1] if errors else None
        if error is not None and type(error).__name__ in DATABASE_ERRORS:
            return f"GET / not checked: it needs the database ({type(error).__name__})"
        why = (
            f"{type(error).__name__}: {_first_line(error)}" if error else "no exception was logged"
        )
        fail(
            f"GET / answered {status} with DEBUG off: {why}",
            "the project works with DEBUG on only? With DEBUG off, Django needs every template "
            "and static file it names to exist; run it with DEBUG=False locally to see",
        )
    static = _a_static_file()
    if static:
        static_status = _get(app, settings.STATIC_URL.rstrip("/") + "/" + static, host=host)
        if static_status != 200:
            fail(
                f"static files are not served: GET {settings.STATIC_URL}{static} answered "
                f"{static_status}",
                "STATIC_URL must be a path the site serves (whitenoise serves STATIC_ROOT)",
            )
    return f"GET / {status}" + (", a static file 200" if static else "")


def _get(app: Any, path: str, *, host: str) -> int:
    import io

    statuses: list[int] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "443",
        "HTTP_HOST": host,
        "HTTP_X_FORWARDED_PROTO": "https",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(int(status[:3])))
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return statuses[0]


def _a_static_file() -> str:
    root = Path(place(STATIC_ROOT))
    if not root.is_dir():
        return ""
    preferred = root / "admin" / "css" / "base.css"
    if preferred.is_file():
        return "admin/css/base.css"
    for path in sorted(root.rglob("*.css")) + sorted(root.rglob("*")):
        if (
            path.is_file()
            and path.name != "staticfiles.json"
            and not path.name.endswith((".gz", ".br"))
        ):
            return path.relative_to(root).as_posix()
    return ""


def build_command(project: dict[str, Any]) -> str:
    """7. The project's own command (its tests), in the image, when configured."""
    command = project.get("build_command", "")
    if not command:
        return "none configured"
    say(f"build_command: {command}")
    result = subprocess.run(["/bin/sh", "-c", command], check=False)
    if result.returncode != 0:
        fail(f"build_command failed (exit {result.returncode}): {command}", "its output is above")
    return "passed"


def main() -> None:
    project = load_project()
    changes = load_settings(project)
    say(f"settings: {project['settings']} through the production layer ({len(changes)} changes)")
    for change in changes:
        print(f"    {change}", file=sys.stderr)
    # Static files first: whitenoise reads STATIC_ROOT once, when the application loads.
    say(f"collectstatic: {collect_static()}")
    app = import_application(project)
    say(f"application: {project['application']} ({project['server'].upper()})")
    say(f"check --deploy: {check_deploy()}")
    say(f"seed database: {seed_database()}")
    say(f"first requests: {first_requests(app, project)}")
    say(f"build_command: {build_command(project)}")
    for folder in ("/app", "/opt/cloudsite"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "--invalidation-mode",
                "unchecked-hash",
                folder,
            ],
            check=False,
        )


if __name__ == "__main__":
    main()
