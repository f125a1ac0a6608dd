"""Wanderpage configures no logging of its own: in production the runtime layer's LOGGING
applies, so what Django logs reaches stdout as one JSON object per line, next to the front's
request line. (The formatter and the request line themselves: tests/runtime/.)"""

import json
import subprocess
import sys
from pathlib import Path

from tests.site.production import HOST, SITE, production_env

# One request through the application gunicorn serves, on a database that cannot be opened.
_FAILING_REQUEST = """
import sys
from wsgiref.util import setup_testing_defaults
from cloudsite.runtime.wsgi import application

environ = {}
setup_testing_defaults(environ)
environ.update(PATH_INFO="/destinations/", HTTP_HOST=sys.argv[1], HTTP_X_FORWARDED_PROTO="https")
result = application(environ, lambda status, headers, exc_info=None: None)
b"".join(result)
result.close()
"""


def test_an_unhandled_error_is_one_json_line_with_its_traceback(
    tmp_path: Path, production_static: Path
) -> None:
    missing = tmp_path / "no-such-directory" / "db.sqlite3"
    env = production_env(
        tmp_path, DATABASE_URL=f"sqlite:///{missing}", CLOUDSITE_STATIC_ROOT=str(production_static)
    )
    result = subprocess.run(
        [sys.executable, "-c", _FAILING_REQUEST, HOST],
        cwd=SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON
    [error] = [line for line in lines if line["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /destinations/"
    assert "OperationalError" in error["exception"]  # the traceback, inside the one line
    [request] = [line for line in lines if line["logger"] == "cloudsite.request"]
    assert (request["path"], request["status"]) == ("/destinations/", 500)
    assert "Traceback" not in result.stderr


def test_no_print_statements_in_the_site() -> None:
    offenders = [
        str(p)
        for p in SITE.rglob("*.py")
        if "print(" in p.read_text() and "migrations" not in p.parts
    ]
    assert offenders == []
