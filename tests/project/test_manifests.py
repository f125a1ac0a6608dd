"""Which dependency manifest a project installs from (its Python: test_python.py)."""

from pathlib import Path

import pytest

from cloudsite.errors import ProjectError
from cloudsite.project.manifests import dependencies
from tests.project.test_detect import tree


def deps(root: Path, configured: str = "", version: str = "") -> tuple[str, str, tuple[str, ...]]:
    found = dependencies(root, configured=configured, django_version=version)
    return found.kind, found.manifest, found.files


def test_the_production_file_of_a_requirements_folder_is_chosen(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "requirements/base.txt": "Django==5.2.19\n",
            "requirements/local.txt": "-r base.txt\ndjango-debug-toolbar==4.4\n",
            "requirements/production.txt": "-r base.txt\ngunicorn==23.0.0\n",
        },
    )
    kind, manifest, files = deps(tmp_path)
    assert (kind, manifest) == ("requirements", "requirements/production.txt")
    # the file it includes ships with it into the dependency layer
    assert files == ("requirements/base.txt", "requirements/production.txt")


def test_a_base_file_beside_only_development_files_is_the_production_one(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "requirements/base.txt": "Django==5.2.19\n",
            "requirements/dev.txt": "-r base.txt\n",
            "requirements/test.txt": "pytest\n",
        },
    )
    assert deps(tmp_path)[1] == "requirements/base.txt"


def test_requirements_files_none_of_which_is_production_are_ambiguous(tmp_path: Path) -> None:
    tree(tmp_path, {"requirements/web.txt": "Django\n", "requirements/worker.txt": "celery\n"})
    with pytest.raises(ProjectError) as raised:
        deps(tmp_path)
    assert raised.value.what == "requirements"
    assert "requirements/web.txt, requirements/worker.txt" in raised.value.why
    assert deps(tmp_path, configured="requirements/web.txt")[1] == "requirements/web.txt"


def test_an_include_that_does_not_exist_is_named(tmp_path: Path) -> None:
    tree(tmp_path, {"requirements.txt": "-r common.txt\nDjango==5.2.19\n"})
    with pytest.raises(ProjectError) as raised:
        deps(tmp_path)
    assert "includes common.txt, which does not exist" in raised.value.why


def test_a_requirement_from_a_path_or_url_is_refused(tmp_path: Path) -> None:
    tree(tmp_path, {"requirements.txt": "Django==5.2.19\n./libs/mylib\n"})
    with pytest.raises(ProjectError) as raised:
        deps(tmp_path)
    assert "'./libs/mylib' installs from a path or URL" in raised.value.why


@pytest.mark.parametrize("lock", ["uv.lock", "poetry.lock", "pdm.lock"])
def test_pyproject_with_a_lock_file_is_exported_from_the_lock(tmp_path: Path, lock: str) -> None:
    tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "x"\nversion = "1"\n'
                'dependencies = ["django>=5.2", "whitenoise[brotli]>=6"]\n'
            ),
            lock: "# a lock\n",
            "requirements.txt": "django\n",  # the lock wins over an older requirements file
        },
    )
    found = dependencies(tmp_path, configured="", django_version="")
    assert (found.kind, found.manifest) == (lock.split(".")[0], lock)
    assert found.files == tuple(sorted(("pyproject.toml", lock)))
    assert {"django", "whitenoise", "whitenoise[brotli]"} <= found.names
    assert found.locked


def test_poetry_before_2_lists_dependencies_in_its_own_table(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[tool.poetry.dependencies]\npython = "^3.12"\nDjango = "^5.2"\ngunicorn = "*"\n'
            ),
            "poetry.lock": "#\n",
        },
    )
    found = dependencies(tmp_path, configured="", django_version="")
    assert found.kind == "poetry" and {"django", "gunicorn"} <= found.names


def test_pep621_dependencies_without_a_lock_are_installed_as_written(tmp_path: Path) -> None:
    tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["Django==5.2.19"]\n'})
    found = dependencies(tmp_path, configured="", django_version="")
    assert (found.kind, found.packages, found.locked) == ("pep621", ("Django==5.2.19",), True)


def test_a_pipfile_lock_is_read_with_its_default_packages(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Pipfile.lock": (
                '{"_meta": {}, "default": {"django": {"version": "==5.2.19"}}, "develop": {}}'
            )
        },
    )
    found = dependencies(tmp_path, configured="", django_version="")
    assert (found.kind, found.files, found.names) == (
        "pipenv",
        ("Pipfile.lock",),
        frozenset({"django"}),
    )


def test_no_manifest_at_all_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as raised:
        deps(tmp_path)
    assert raised.value.what == "requirements"
    assert raised.value.why.startswith("no dependency manifest in")
    assert "requirements.txt" in raised.value.hint


def test_startprojects_header_stands_in_for_a_manifest(tmp_path: Path) -> None:
    kind, _, _ = deps(tmp_path, version="5.2.19")
    assert kind == "startproject"
