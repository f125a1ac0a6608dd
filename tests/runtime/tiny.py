"""A Django project of a few lines, written for one test, run through the runtime layer: for the
rules a real project (Wanderpage) cannot show, such as a project that refuses nothing itself."""

import json
import os
from pathlib import Path

# A settings module as small as Django accepts: no secret key, no hosts, no database.
SETTINGS = 'ROOT_URLCONF = "tiny.urls"\n'
WSGI = (
    "import os\n"
    "from django.core.wsgi import get_wsgi_application\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiny.settings")\n'
    "application = get_wsgi_application()\n"
)
ASGI = WSGI.replace("wsgi", "asgi")


def tiny_project(
    workdir: Path,
    *,
    settings: str = SETTINGS,
    wsgi: str = WSGI,
    asgi: str = ASGI,
    **shipped: object,
) -> dict[str, str]:
    """Write the package `tiny` (settings, urls, wsgi, asgi) and its project.json into workdir;
    return the environment that runs it through the layer (no secret key: add one if the test
    needs it). `shipped` adds to project.json."""
    package = workdir / "tiny"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(settings)
    (package / "urls.py").write_text("urlpatterns = []\n")
    (package / "wsgi.py").write_text(wsgi)
    (package / "asgi.py").write_text(asgi)
    document = {"settings": "tiny.settings", "application": "tiny.wsgi:application", **shipped}
    (workdir / "project.json").write_text(json.dumps(document))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOUDSITE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cloudsite.runtime.settings",
        CLOUDSITE_PROJECT_FILE=str(workdir / "project.json"),
        CLOUDSITE_STATIC_ROOT=str(workdir / "static"),
        CLOUDSITE_SEED=str(workdir / "seed.sqlite3"),
        CLOUDSITE_SQLITE=str(workdir / "db.sqlite3"),
        PYTHONPATH=str(workdir),
    )
    env.pop("DATABASE_URL", None)
    return env
