"""The application gunicorn serves (cloudsite.runtime.wsgi): the project's own, imported as it
is under the layer's settings and wrapped by the front. Each case runs in a fresh interpreter
through the layer (the settings module must be the layer's)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.runtime.tiny import WSGI, tiny_project
from tests.support.layer import WANDERPAGE, layer_env

_DESCRIBE = """
import json
from cloudsite.runtime import wsgi
from django.conf import settings

app = wsgi.application
print(json.dumps({
    "front": type(app).__name__,
    "project": type(app.app).__module__ + "." + type(app.app).__name__,
    "headers": dict(app.headers.always),
    "settings": settings.SETTINGS_MODULE,
}))
"""


def _python(code: str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_project_s_own_application_is_served_behind_the_front(tmp_path: Path) -> None:
    env = layer_env(WANDERPAGE, tmp_path)
    env.update(DJANGO_ENV="production", DJANGO_SECRET_KEY="k" * 50)
    result = _python(_DESCRIBE, cwd=WANDERPAGE, env=env)
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout.splitlines()[-1])
    # Whatever the project's wsgi.py wraps around Django (Wanderpage: its page cache) stays.
    assert described["front"] == "Front"
    assert described["project"] == "config.pagecache.FrontPageCache"
    assert described["settings"] == "cloudsite.runtime.settings"
    shipped = json.loads((tmp_path / "project.json").read_text())
    assert shipped["content_security_policy"].startswith("default-src 'none'")
    assert described["headers"]["Content-Security-Policy"] == shipped["content_security_policy"]


def test_a_wsgi_py_that_sets_the_settings_module_outright_is_refused_with_the_fix(
    tmp_path: Path,
) -> None:
    outright = WSGI.replace("os.environ.setdefault(", "os.environ.__setitem__(")
    env = {**tiny_project(tmp_path, wsgi=outright), "DJANGO_SECRET_KEY": "k" * 50}
    result = _python(_DESCRIBE, cwd=tmp_path, env=env)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert "tiny.wsgi sets DJANGO_SETTINGS_MODULE to 'tiny.settings' outright" in last
    assert "use os.environ.setdefault" in last
