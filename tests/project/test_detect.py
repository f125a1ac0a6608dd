"""Project detection on source trees: the layouts real projects have, and the traps (several
manage.py files, a committed virtualenv, a settings package, a nested backend/, a tree that is
not a Django project). Each ambiguity is a ProjectError naming the key that settles it."""

from pathlib import Path

import pytest

from cloudsite.errors import ProjectError
from cloudsite.project.detect import Keys, detect
from tests.support.corpus import startproject

MANAGE = """#!/usr/bin/env python
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""
WSGI = """import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")
application = get_wsgi_application()
"""


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def package_project(root: Path, *, manage: str, wsgi: str, extra: dict[str, str]) -> Path:
    """A settings package (base, local, production): cookiecutter-django's shape."""
    return tree(
        root,
        {
            "manage.py": MANAGE.format(settings=manage),
            "config/__init__.py": "",
            "config/wsgi.py": WSGI.format(settings=wsgi),
            "config/settings/__init__.py": "",
            "config/settings/base.py": 'WSGI_APPLICATION = "config.wsgi.application"\n',
            "config/settings/local.py": "from .base import *  # noqa\nDEBUG = True\n",
            "config/settings/production.py": "from .base import *  # noqa\n",
            "requirements.txt": "Django==5.2.19\n",
            **extra,
        },
    )


def test_startproject_is_found_whole_without_a_manifest(tmp_path: Path) -> None:
    project = detect(startproject(tmp_path / "p"))
    assert (project.manage_py, project.app_dir) == ("manage.py", ".")
    assert (project.settings, project.settings_from) == ("mysite.settings", "manage.py")
    assert (project.server, project.application) == ("wsgi", "mysite.wsgi:application")
    assert project.dependencies.kind == "startproject"
    assert project.dependencies.packages == (f"Django=={project.django_version}",)
    assert project.database.needed is False and project.database.engine == "sqlite"
    assert project.serves_static == "cloudsite"
    assert not project.static_root and not project.dockerfile


def test_the_production_sibling_wins_over_the_development_module_manage_py_names(
    tmp_path: Path,
) -> None:
    root = package_project(
        tmp_path, manage="config.settings.local", wsgi="config.settings.local", extra={}
    )
    project = detect(root)
    assert project.settings == "config.settings.production"
    assert "production sibling" in project.settings_from
    assert project.application == "config.wsgi:application"  # from base.py, star-imported


def test_a_production_module_named_by_wsgi_py_is_taken_as_it_is(tmp_path: Path) -> None:
    root = package_project(
        tmp_path, manage="config.settings.local", wsgi="config.settings.production", extra={}
    )
    project = detect(root)
    assert (project.settings, project.settings_from) == (
        "config.settings.production",
        "config/wsgi.py",
    )


def test_two_production_modules_are_ambiguous_and_name_the_key(tmp_path: Path) -> None:
    root = package_project(
        tmp_path,
        manage="config.settings.local",
        wsgi="config.settings.local",
        extra={"config/settings/prod.py": "from .base import *\n"},
    )
    with pytest.raises(ProjectError) as raised:
        detect(root)
    assert raised.value.what == "settings_module"
    assert "config.settings.prod" in raised.value.why and "production" in raised.value.why
    assert 'settings_module = "' in raised.value.hint
    # and the key settles it
    settled = detect(root, Keys(settings_module="config.settings.prod"))
    assert settled.settings == "config.settings.prod"


def test_two_manage_py_at_the_same_depth_are_ambiguous(tmp_path: Path) -> None:
    startproject(tmp_path / "a")
    startproject(tmp_path / "b")
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert raised.value.what == "manage_py"
    assert "a/manage.py, b/manage.py" in raised.value.why
    assert detect(tmp_path, Keys(manage_py="b/manage.py")).app_dir == "b"


def test_the_shallowest_manage_py_wins_and_virtualenvs_are_never_searched(tmp_path: Path) -> None:
    startproject(tmp_path / "backend")
    # A committed virtualenv and node_modules hold manage.py-like files of other projects.
    startproject(tmp_path / ".venv" / "lib")
    startproject(tmp_path / "node_modules" / "x")
    startproject(tmp_path / "docs" / "examples" / "demo")
    project = detect(tmp_path)
    assert (project.manage_py, project.app_dir) == ("backend/manage.py", "backend")


def test_a_nested_project_takes_its_manifest_from_its_own_folder(tmp_path: Path) -> None:
    startproject(tmp_path / "backend")
    tree(tmp_path, {"backend/requirements.txt": "Django==5.2.19\ngunicorn==23.0.0\n"})
    project = detect(tmp_path)
    assert project.dependencies.manifest == "backend/requirements.txt"
    assert project.dependencies.files == ("backend/requirements.txt",)
    assert project.uses == ("gunicorn",)


def test_a_tree_with_no_django_project_is_refused(tmp_path: Path) -> None:
    tree(tmp_path, {"app.py": "from flask import Flask\n", "requirements.txt": "flask\n"})
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert raised.value.what == "manage_py"
    assert raised.value.why.startswith("not a Django project: no manage.py")


def test_the_home_folder_is_never_a_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    startproject(tmp_path)
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert raised.value.what == "source_dir" and "home folder" in raised.value.why


def test_no_settings_module_anywhere_is_refused_with_the_key(tmp_path: Path) -> None:
    tree(tmp_path, {"manage.py": "print('not django')\n"})
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert raised.value.what == "settings_module"


def test_a_settings_module_that_does_not_exist_is_named(tmp_path: Path) -> None:
    tree(tmp_path, {"manage.py": MANAGE.format(settings="gone.settings")})
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert "manage.py names gone.settings" in raised.value.why


def test_an_asgi_only_project_is_served_by_its_asgi_application(tmp_path: Path) -> None:
    startproject(tmp_path)
    (tmp_path / "mysite" / "wsgi.py").unlink()
    settings = tmp_path / "mysite" / "settings.py"
    text = settings.read_text().replace(
        "WSGI_APPLICATION = 'mysite.wsgi.application'",
        "ASGI_APPLICATION = 'mysite.asgi.application'",
    )
    settings.write_text(text)
    project = detect(tmp_path)
    assert (project.server, project.application) == ("asgi", "mysite.asgi:application")


def test_double_quoted_and_conditional_settings_are_read(tmp_path: Path) -> None:
    """Quote style does not matter (nixpacks#367), nor settings set under an `if`."""
    tree(
        tmp_path,
        {
            "manage.py": MANAGE.format(settings="site_config.settings"),
            "site_config/__init__.py": "",
            "site_config/app.py": "application = None\n",
            "site_config/settings.py": (
                "import os\n"
                "if os.environ.get('X'):\n"
                '    WSGI_APPLICATION = "site_config.app.application"\n'
                "SECRET_KEY = os.environ['APP_SECRET']\n"
                "DATABASES = {'default': {'ENGINE': \"django.db.backends.postgresql\"}}\n"
                "STATIC_ROOT = '/srv/static'\n"
            ),
            "requirements.txt": "django>=5.2\npsycopg[c]==3.2.3\n",
        },
    )
    project = detect(tmp_path)
    assert project.application == "site_config.app:application"
    assert project.secret_key_env == ("APP_SECRET",)
    assert project.database.needed and project.database.engine == "postgresql"
    assert project.static_root
    assert "psycopg[c]" in project.dependencies.names
    assert not project.dependencies.locked  # django>=5.2 is not a pin
    assert any("pins no exact versions" in note for note in project.notes)


@pytest.mark.parametrize(
    ("databases", "needed", "reason"),
    [
        ("env.db()", True, "DATABASES reads DATABASE_URL with no default"),
        (
            'env.db("DATABASE_URL", default="postgres:///my_site")',
            True,
            "DATABASES defaults to postgres",
        ),
        ("env.db(default='sqlite:///db.sqlite3')", False, "SQLite"),
        (
            "dj_database_url.config(conn_max_age=600)",
            True,
            "DATABASES reads DATABASE_URL with no default",
        ),
        ("dj_database_url.config(default='sqlite:///x')", False, "SQLite"),
    ],
)
def test_whether_a_database_server_is_needed_comes_from_databases(
    tmp_path: Path, databases: str, needed: bool, reason: str
) -> None:
    startproject(tmp_path)
    settings = tmp_path / "mysite" / "settings.py"
    text = settings.read_text()
    start = text.index("DATABASES = {")
    end = text.index("}\n}\n", start) + 4
    settings.write_text(
        "import environ, dj_database_url\nenv = environ.Env()\n"
        + text[:start]
        + f"DATABASES = {{'default': {databases}}}\n"
        + text[end:]
    )
    database = detect(tmp_path).database
    assert database.needed is needed
    assert reason in database.reason


def test_required_variables_the_layer_does_not_provide_are_listed(tmp_path: Path) -> None:
    root = package_project(
        tmp_path,
        manage="config.settings.local",
        wsgi="config.settings.production",
        extra={
            "config/settings/production.py": (
                "from .base import *\nimport environ\nenv = environ.Env()\n"
                'SECRET_KEY = env("DJANGO_SECRET_KEY")\n'
                'ADMIN_URL = env("DJANGO_ADMIN_URL")\n'
                'REDIS_URL = env("REDIS_URL", default="redis://localhost:6379/0")\n'
                'HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["example.com"])\n'
            ),
        },
    )
    project = detect(root)
    assert project.required_env == ("DJANGO_ADMIN_URL",)
    assert project.secret_key_env == ("DJANGO_SECRET_KEY",)


def test_the_projects_own_whitenoise_or_s3_means_it_serves_static_files_itself(
    tmp_path: Path,
) -> None:
    startproject(tmp_path)
    settings = tmp_path / "mysite" / "settings.py"
    base = settings.read_text()
    with_whitenoise = base.replace(
        "'django.middleware.security.SecurityMiddleware',",
        "'django.middleware.security.SecurityMiddleware',\n    "
        "'whitenoise.middleware.WhiteNoiseMiddleware',",
    )
    settings.write_text(with_whitenoise)
    assert detect(tmp_path).serves_static == "project"
    assert "whitenoise" in detect(tmp_path).uses
    settings.write_text(
        base + "STORAGES = {'staticfiles': {'BACKEND': 'storages.backends.s3.S3Storage'}}\n"
    )
    project = detect(tmp_path)
    assert (project.serves_static, project.static_storage) == (
        "project",
        "storages.backends.s3.S3Storage",
    )


def test_a_package_named_cloudsite_would_shadow_the_layer_and_is_refused(tmp_path: Path) -> None:
    startproject(tmp_path)
    tree(tmp_path, {"cloudsite/__init__.py": ""})
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path)
    assert "package named 'cloudsite'" in raised.value.why


def test_a_configured_application_must_name_a_module(tmp_path: Path) -> None:
    startproject(tmp_path)
    with pytest.raises(ProjectError) as raised:
        detect(tmp_path, Keys(application="nowhere.wsgi:application"))
    assert raised.value.what == "application"
    assert detect(tmp_path, Keys(application="mysite.asgi:application")).server == "asgi"


def test_pyproject_names_the_settings_when_manage_py_does_not(tmp_path: Path) -> None:
    """A manage.py that takes DJANGO_SETTINGS_MODULE from the environment only, and the tools'
    table in pyproject.toml that names the module; its production sibling still wins."""
    package_project(tmp_path, manage="x", wsgi="x", extra={})
    for name in ("manage.py", "config/wsgi.py"):
        (tmp_path / name).write_text("import os\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.django-stubs]\ndjango_settings_module = "config.settings.local"\n'
    )
    project = detect(tmp_path)
    assert project.settings == "config.settings.production"
    assert project.settings_from.startswith("pyproject.toml [tool.django-stubs] names")
