"""Which Python a project asks for (cloudsite.project.python), and the table of the ones an
image can be built with (runtime/pythons.toml)."""

import re
from datetime import date
from pathlib import Path

import pytest

from cloudsite.errors import ProjectError
from cloudsite.project.python import DEFAULT, SUPPORTED, choose
from cloudsite.runtime import pythons
from tests.project.test_detect import tree
from tests.support.servers import ROOT

BEFORE_ANY_END = date(2026, 1, 1)  # no supported version is past its end of life yet
RP = "pyproject.toml requires-python"


def requires(spec: str) -> dict[str, str]:
    return {"pyproject.toml": f'[project]\nrequires-python = "{spec}"\n'}


def chosen(root: Path, configured: str = "") -> tuple[str, str]:
    found = choose(root, configured=configured, today=BEFORE_ANY_END)
    return found.version, found.source


@pytest.mark.parametrize(
    ("files", "version", "source"),
    [
        ({}, DEFAULT, "default"),
        ({".python-version": "3.12\n"}, "3.12", ".python-version"),
        ({".python-version": "3.13.1\n"}, "3.13", ".python-version"),
        ({".python-version": "cpython-3.11\n"}, "3.11", ".python-version"),
        ({"runtime.txt": "python-3.10.2\n"}, "3.10", "runtime.txt"),
        ({".tool-versions": "nodejs 20\npython 3.15.2\n"}, "3.15", ".tool-versions"),
        (requires("==3.14.*"), "3.14", RP),
        # a range that admits the default gets it; else the supported one nearest to it
        (requires(">=3.11"), DEFAULT, RP),
        (requires(">=3.14"), "3.14", RP),
        (requires("<3.12"), "3.11", RP),
        ({"uv.lock": 'requires-python = ">=3.15"\n'}, "3.15", "uv.lock requires-python"),
        (
            {"pyproject.toml": '[tool.poetry.dependencies]\npython = "~3.12"\n'},
            "3.12",
            "pyproject.toml [tool.poetry.dependencies] python",
        ),
        (
            {"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.10"\n'},
            DEFAULT,
            "pyproject.toml [tool.poetry.dependencies] python",
        ),
        ({"Pipfile": '[requires]\npython_version = "3.11"\n'}, "3.11", "Pipfile"),
        (
            {"Pipfile.lock": '{"_meta": {"requires": {"python_version": "3.12"}}, "default": {}}'},
            "3.12",
            "Pipfile.lock",
        ),
        # an exact pin inside the project's range
        (
            {".python-version": "3.14\n", **requires(">=3.12")},
            "3.14",
            ".python-version",
        ),
    ],
)  # fmt: skip
def test_the_python_version_comes_from_the_project(
    tmp_path: Path, files: dict[str, str], version: str, source: str
) -> None:
    assert chosen(tree(tmp_path, files)) == (version, source)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({".python-version": "2.7\n"}, ".python-version asks for Python 2.7, and cloudsite builds"),
        ({"runtime.txt": "python-3.8.10\n"}, "runtime.txt asks for Python 3.8.10, and cloudsite"),
        ({".python-version": "3.99\n"}, ".python-version asks for Python 3.99, and cloudsite"),
        (
            {".python-version": "3.12\n", **requires(">=3.13")},
            ".python-version asks for Python 3.12 and pyproject.toml requires-python for >=3.13, "
            "which excludes it",
        ),
        (
            {".python-version": "3.12\n", "runtime.txt": "python-3.13.1\n"},
            ".python-version asks for Python 3.12 and runtime.txt for 3.13.1",
        ),
        (
            requires(">=3.16"),
            "pyproject.toml requires-python (>=3.16) admits none of the Pythons cloudsite builds",
        ),
    ],
)  # fmt: skip
def test_a_version_outside_the_list_or_two_pins_that_disagree_are_refused_naming_the_files(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    root = tree(tmp_path, files)
    with pytest.raises(ProjectError) as raised:
        choose(root, configured="")
    assert raised.value.what == "python_version"
    assert raised.value.why.startswith(why), raised.value.why
    assert "\n" not in raised.value.why and raised.value.hint
    assert ", ".join(SUPPORTED) in raised.value.why or "agree" in raised.value.hint


def test_the_key_settles_it_and_says_which_pin_it_overrides(tmp_path: Path) -> None:
    root = tree(tmp_path, {".python-version": "3.12\n"})
    found = choose(root, configured="3.14", today=BEFORE_ANY_END)
    assert (found.version, found.source) == ("3.14", "python_version")
    assert found.warnings == (
        "python_version = 3.14 in cloudsite.toml overrides .python-version (3.12)",
    )
    with pytest.raises(ProjectError) as raised:
        choose(root, configured="3.9")
    assert raised.value.why.startswith("'3.9' is not a Python cloudsite builds")


def test_an_odd_finding_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    """A pyenv environment's name in .python-version, a version past its end of life."""
    named = choose(tree(tmp_path / "a", {".python-version": "my-venv\n"}), configured="")
    assert (named.version, named.source) == (DEFAULT, "default")
    assert named.warnings[0].startswith(".python-version says 'my-venv', which names no CPython")
    old = tree(tmp_path / "b", {".python-version": "3.10\n"})
    assert choose(old, configured="", today=date(2026, 10, 31)).warnings == ()
    [warning] = choose(old, configured="", today=date(2026, 11, 1)).warnings
    assert warning.startswith("Python 3.10 reached its end of life in 2026-10")


def test_the_table_lists_every_supported_cpython_each_pinned_by_digest() -> None:
    table = pythons.table()
    assert list(table) == ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
    assert pythons.DEFAULT in table
    for python in table.values():
        assert re.fullmatch(
            r"public\.ecr\.aws/docker/library/(python|debian):[a-z0-9.-]+@sha256:[0-9a-f]{64}",
            python.image,
        ), python.image
        assert python.interpreter in ("debian", "image")
        if python.interpreter == "image":
            assert python.tag.startswith(f"python:{python.version}-slim"), python.tag
        assert re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", python.end_of_life)
        assert python.stand_in in ("", "bookworm", "trixie", "sid")
        assert python.pinned
    # the Dockerfile's own default is the default version's pin, so it stands alone pinned
    dockerfile = (ROOT / "src" / "cloudsite" / "runtime" / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={table[pythons.DEFAULT].image}\n" in dockerfile


def test_a_local_base_is_named_per_version_and_base_image_keeps_naming_the_default() -> None:
    env = {"BASE_IMAGE_3_14": "localhost/py:3.14", "BASE_IMAGE": "localhost/debian:trixie"}
    assert pythons.base_image("3.14", env) == ("localhost/py:3.14", "BASE_IMAGE_3_14")
    assert pythons.base_image(pythons.DEFAULT, env) == ("localhost/debian:trixie", "BASE_IMAGE")
    assert pythons.base_image("3.12", env) == (pythons.table()["3.12"].image, "pinned")
