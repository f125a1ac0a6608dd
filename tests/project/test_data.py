"""What a project keeps (cloudsite.project.data), read from real trees and from the shapes
real projects have: whether its apps write at run time, whether it stores files, the storage
it chose itself, its sessions and cache; and where its uploads go for each `media` value."""

from dataclasses import replace
from pathlib import Path

import pytest

from cloudsite.config import Config
from cloudsite.errors import ProjectError
from cloudsite.project.checks import data_warnings, media
from cloudsite.project.data import media_choice
from cloudsite.project.detect import detect
from cloudsite.project.init import config_text, database_reason, database_wanted
from tests.project.test_detect import MANAGE, WSGI, tree
from tests.support.corpus import CORPUS, startproject

MODEL = "from django.db import models\n\nclass Note(models.Model):\n    text = models.TextField()\n"
UPLOAD = (
    "from django.db import models\n\nclass Photo(models.Model):\n    image = models.ImageField()\n"
)


def project(root: Path, settings: str, files: dict[str, str] | None = None) -> Path:
    """A project `site` whose settings are `settings`, plus `files` (path: text)."""
    return tree(
        root,
        {
            "manage.py": MANAGE.format(settings="site.settings"),
            "site/__init__.py": "",
            "site/wsgi.py": WSGI.format(settings="site.settings"),
            "site/settings.py": settings,
            "requirements.txt": "Django==5.2.19\n",
            **(files or {}),
        },
    )


def test_startproject_writes_at_run_time_stores_no_files_and_init_asks_for_a_database(
    tmp_path: Path,
) -> None:
    found = detect(startproject(tmp_path / "s"))
    assert found.data.writers == (
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.sessions",
    )
    assert found.data.files == ""
    assert database_wanted(found)
    text = config_text(found, Config(name="s"))
    assert "\ndatabase = true\n" in text
    assert database_reason(found) in text
    assert media_choice(found.data, "auto") == ("none", "the project stores no files")
    assert "LocMemCache, Django's default: each worker" in dict(found.summary())["cache"]


def test_apps_composed_of_lists_and_extended_later_are_all_read(tmp_path: Path) -> None:
    # cookiecutter-django's shape: INSTALLED_APPS = DJANGO_APPS + ... + LOCAL_APPS, then +=
    found = detect(CORPUS / "cookiecutter-django")
    assert {"allauth", "my_site.users", "anymail"} <= set(found.data.apps)
    assert "my_site.users" in found.data.writers  # its own model: a custom user
    assert "allauth" in found.data.writers and "allauth.account" not in found.data.writers
    assert found.data.files == "the settings set MEDIA_ROOT"
    assert found.data.cache == "django_redis.cache.RedisCache"


def test_only_the_projects_own_apps_with_models_count_as_writers(tmp_path: Path) -> None:
    settings = (
        'INSTALLED_APPS = ["django.contrib.staticfiles", "notes", "plain.apps.PlainConfig"]\n'
    )
    root = project(
        tmp_path,
        settings,
        {
            "notes/__init__.py": "",
            "notes/models.py": MODEL,
            "plain/__init__.py": "",
            "plain/models.py": "from django.db import models\n",
        },
    )
    found = detect(root)
    assert found.data.writers == ("notes",)
    assert not database_wanted(replace(found, data=replace(found.data, writers=())))


@pytest.mark.parametrize(
    ("settings", "files", "why"),
    [
        ('INSTALLED_APPS = ["photos"]\n', {"photos/__init__.py": "", "photos/models.py": UPLOAD},
         "photos/models.py declares an ImageField"),
        ('INSTALLED_APPS = ["wagtail.images", "wagtail"]\n', {},
         "wagtail.images is installed (it keeps uploaded files)"),
        ('MEDIA_ROOT = "/srv/media"\n', {}, "the settings set MEDIA_ROOT"),
    ],
)  # fmt: skip
def test_a_project_that_stores_files_gets_a_bucket_and_says_why(
    tmp_path: Path, settings: str, files: dict[str, str], why: str
) -> None:
    found = detect(project(tmp_path, settings, files))
    assert found.data.files == why
    assert media_choice(found.data, "auto") == ("s3", found.data.files)


def test_the_projects_own_storage_is_respected_and_s3_over_it_is_refused(tmp_path: Path) -> None:
    settings = (
        'MEDIA_ROOT = "/m"\n'
        'STORAGES = {"default": {"BACKEND": "storages.backends.gcloud.GoogleCloudStorage"}}\n'
    )
    found = detect(project(tmp_path, settings))
    assert found.data.storage_kind == "other"
    assert media(found, Config(media="auto"))[0] == "project"
    with pytest.raises(ProjectError) as refused:
        media(found, Config(media="s3"))
    assert refused.value.what == "media"
    assert "GoogleCloudStorage, not S3" in str(refused.value)


def test_an_s3_storage_turned_on_under_a_condition_counts_as_the_projects_s3(
    tmp_path: Path,
) -> None:
    # Wagtail's bakerydemo: S3 only when AWS_STORAGE_BUCKET_NAME is in the environment
    settings = (
        "import os\n"
        'MEDIA_ROOT = "/m"\n'
        'if "AWS_STORAGE_BUCKET_NAME" in os.environ:\n'
        '    STORAGES["default"]["BACKEND"] = "storages.backends.s3.S3Storage"\n'
    )
    found = detect(project(tmp_path, settings))
    assert found.data.storage_kind == "s3"
    assert media(found, Config(media="s3")) == ("s3", "media = s3")


def test_data_that_would_not_last_is_one_warning_each(tmp_path: Path) -> None:
    found = detect(project(tmp_path, 'INSTALLED_APPS = ["django.contrib.auth"]\nMEDIA_ROOT="m"\n'))
    warnings = data_warnings(found, Config(database=False, media="none"))
    assert len(warnings) == 2
    assert warnings[0].startswith("database = false: what auth write")
    assert "vanishes at the next deploy" in warnings[0]
    assert warnings[1].startswith("media = none, and the settings set MEDIA_ROOT: uploads have")
    assert data_warnings(found, Config(database=True, media="auto")) == []
