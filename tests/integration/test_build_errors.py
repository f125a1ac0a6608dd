"""What users hit first, inside the image build: each is one `error:` line that says what is
wrong and a `hint:`, exit 2, and no image is left tagged. The same lines reach `cloudsite up`
from CodeBuild's log (tests/cli/test_pipeline_stubbed.py)."""

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.corpus import startproject
from tests.support.engine import Engine
from tests.support.servers import ROOT

pytestmark = pytest.mark.engine


def needs_a_variable(root: Path) -> None:
    settings = root / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + '\nimport os\nADMIN_URL = os.environ["DJANGO_ADMIN_URL"]\n'
    )


def refers_to_a_missing_file(root: Path) -> None:
    """A stylesheet that names an image nobody committed: the manifest storage refuses it."""
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nSTATICFILES_DIRS = [BASE_DIR / "static"]\n')
    (root / "static" / "css").mkdir(parents=True)
    (root / "static" / "css" / "site.css").write_text(
        'body { background: url("../img/gone.png"); }\n'
    )


def works_only_with_debug_on(root: Path) -> None:
    """A home page whose template names a static file that does not exist: with DEBUG on
    Django serves the page anyway; with DEBUG off the manifest has no entry and it is a 500."""
    (root / "mysite" / "templates").mkdir()
    (root / "mysite" / "templates" / "home.html").write_text(
        '{% load static %}<link rel="stylesheet" href="{% static \'nothere.css\' %}">\n'
    )
    settings = root / "mysite" / "settings.py"
    text = settings.read_text().replace(
        "'DIRS': [],", "'DIRS': [BASE_DIR / 'mysite' / 'templates'],"
    )
    settings.write_text(text)
    urls = root / "mysite" / "urls.py"
    urls.write_text(
        urls.read_text().replace(
            "from django.urls import path",
            "from django.urls import path\nfrom django.views.generic import TemplateView",
        )
        + "\nurlpatterns.append(path('', TemplateView.as_view(template_name='home.html')))\n"
    )


def imports_a_missing_dependency(root: Path) -> None:
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\nimport rest_framework  # not in the manifest\n")
    (root / "requirements.txt").write_text("Django==5.2.19\n")


def loads_a_library_the_image_lacks(root: Path) -> None:
    """What a wheel's extension does when a system library is absent: the loader's own
    error, here through ctypes (the same dlopen and the same message)."""
    settings = root / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + '\nimport ctypes\nctypes.CDLL("libcstest-absent.so.3")\n'
    )


def pins_a_python_no_registry_here_serves(root: Path) -> None:
    (root / ".python-version").write_text("3.12\n")


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "a variable the settings need": (
        needs_a_variable,
        "settings: importing mysite.settings failed: DJANGO_ADMIN_URL is not set",
        'environment = ["DJANGO_ADMIN_URL=..."] in cloudsite.toml',
    ),
    "collectstatic failing": (
        refers_to_a_missing_file,
        "collectstatic failed: css/site.css refers to img/gone.png, which does not exist",
        "a file a stylesheet refers to must exist",
    ),
    "only works with DEBUG on": (
        works_only_with_debug_on,
        "GET / answered 500 with DEBUG off: "
        "ValueError: Missing staticfiles manifest entry for 'nothere.css'",
        "the project works with DEBUG on only?",
    ),
    "a dependency missing from the manifest": (
        imports_a_missing_dependency,
        "settings: importing mysite.settings failed: no module named 'rest_framework'",
        "is it missing from the project's dependency manifest?",
    ),
    "a shared library missing": (
        loads_a_library_the_image_lacks,
        "settings: importing mysite.settings failed: libcstest-absent.so.3 is missing",
        "ships libcstest-absent.so.3 to system_packages in cloudsite.toml",
    ),
    # offline, a base no registry here serves: one line naming the variable for a local one
    "a base image out of reach": (
        pins_a_python_no_registry_here_serves,
        "the base image for Python 3.12 can't be reached: "
        "public.ecr.aws/docker/library/python:3.12-slim-trixie@sha256:",
        "set BASE_IMAGE_3_12 to a local image with Python 3.12",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_project_problem_is_one_line_with_a_hint_and_leaves_no_image(
    case: str, engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    change, error, hint = CASES[case]
    root = startproject(tmp_path / "mysite")
    change(root)
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cloudsite"), "build", "--tag", "broken"],
        cwd=root,
        env=engine.script_env(**build_env, CLOUDSITE_ENGINE="podman"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == [f"error: build: {error}"] or errors[-1].startswith(
        f"error: build: {error}"
    ), lines[-10:]
    assert any(line.startswith("hint: ") and hint in line for line in lines), lines[-10:]
    assert result.stdout == ""  # no image name: nothing was built
    tagged = subprocess.run(["podman", "image", "exists", "localhost/mysite:broken"], check=False)
    assert tagged.returncode != 0
