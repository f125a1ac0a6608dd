"""The Python a project pins, in the image (docs/your-project.md#python-versions):

    a bare startproject on each version this machine can rehearse and no corpus project pins
    (3.15), built with `cloudsite build` on its offline stand-in: the interpreter in the image
    is that version, and its size is reported
    an sdist that needs a compiler (uwsgi) builds with no build_packages, and the library it
    loads at run time (libpython) is found and kept
    scripts/refresh-pythons.py pins the digest a registry serves

The real corpus projects on their own pins (3.11, 3.13, 3.14): tests/integration/test_corpus.py.
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cloudsite.project.detect import detect
from cloudsite.project.shipment import native_packages
from cloudsite.runtime import pythons
from tests.integration.test_corpus import cloudsite_build as corpus_build
from tests.support.corpus import startproject, uv_lock
from tests.support.engine import Engine, python_env
from tests.support.servers import ROOT

pytestmark = [pytest.mark.engine, pytest.mark.network]
# The versions rehearsed here that no corpus project of test_corpus.py pins (3.11, 3.13 and
# 3.14 each have one); bench/python_versions.py reports every version's size and build times.
REHEARSED = sorted(
    {v for v, p in pythons.table().items() if p.stand_in} - {"3.11", pythons.DEFAULT, "3.14"}
)


def cloudsite_build(engine: Engine, root: Path, env: dict[str, str]) -> tuple[str, float, str]:
    """test_corpus's `cloudsite build`, as a user runs it: (image, its size in bytes, the log)."""
    image, log, _seconds = corpus_build(engine, root, env)
    size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
    return image, size, log


def in_image(engine: Engine, image: str, *argv: str) -> str:
    ran = engine.run_once("--entrypoint", argv[0], image, *argv[1:])
    assert ran.returncode == 0, ran.stderr[-2000:]
    return ran.stdout


@pytest.mark.parametrize("version", REHEARSED)
def test_a_bare_startproject_builds_on_its_pinned_python(
    version: str,
    engine: Engine,
    build_env: dict[str, str],
    tmp_path: Path,
    figures: list[str],
) -> None:
    root = startproject(tmp_path / "site")
    (root / ".python-version").write_text(f"{version}\n")
    (root / "cloudsite.toml").write_text(f'name = "py{version.replace(".", "")}"\n')
    env = build_env if version == pythons.DEFAULT else {**build_env, **python_env(version)}
    image, size, log = cloudsite_build(engine, root, env)
    figures.append(f"startproject on Python {version}: {size / 1e6:.1f} MB")
    assert f"(Python {version}, startproject dependencies)" in log
    found = in_image(engine, image, "/opt/venv/bin/python", "-c", "import sys; print(sys.version)")
    assert found.startswith(f"{version}."), found
    checked = in_image(engine, image, "/bin/bash", "-c", "command -v apt-get gcc || echo none")
    assert checked.strip() == "none"  # no package manager, no compiler at run time


def test_an_sdist_that_needs_a_compiler_builds_with_no_build_packages(
    engine: Engine, build_env: dict[str, str], tmp_path: Path, figures: list[str]
) -> None:
    """uwsgi ships no wheel: the build stage's own toolchain compiles it, and the library
    its binary loads (Debian's libpython3.13) is found and installed into the runtime."""
    root = startproject(tmp_path / "site")
    (root / "requirements.txt").write_text(
        f"# cstest {time.time_ns()}: this run's own layer\nDjango==5.2.19\nuwsgi==2.0.31\n"
    )
    (root / "cloudsite.toml").write_text('name = "compiled"\n')
    image, size, log = cloudsite_build(engine, root, build_env)
    figures.append(f"startproject with uwsgi compiled: {size / 1e6:.1f} MB")
    assert "Building wheel for uwsgi" in log or "building 'uwsgi'" in log.lower(), log[-2000:]
    assert native_packages(detect(root)) == (set(), set())  # nothing named, nothing known
    assert "from packages the image adds: libpython3.13" in log
    assert in_image(engine, image, "/opt/venv/bin/uwsgi", "--version").strip() == "2.0.31"


def test_refresh_pythons_pins_the_digest_the_registry_serves(
    engine: Engine, registry: str, tmp_path: Path
) -> None:
    """A registry with ECR Public's paths (the local one, standing in), holding one image
    under python:3.14-slim-trixie: the script resolves that tag to the digest the registry
    serves and rewrites that row alone; a tag the registry lacks fails and writes nothing."""
    table = tmp_path / "pythons.toml"
    shutil.copy(pythons.TABLE, table)
    before = table.read_text()
    stand_in = python_env("3.14")["BASE_IMAGE_3_14"]
    target = f"{registry}/docker/library/python:3.14-slim-trixie"
    digest_file = tmp_path / "pushed-digest"
    pushed = subprocess.run(
        ["podman", "push", "--tls-verify=false", "--digestfile", str(digest_file), stand_in,
         target],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    digests = [digest_file.read_text().strip()]  # what the registry stored, as podman says
    script = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "refresh-pythons.py")]
    common = ["--registry", f"http://{registry}", "--table", str(table)]
    result = subprocess.run(
        [*script, *common, "--only", "3.14"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr + pushed.stderr
    [line] = result.stdout.splitlines()
    digest = line.split(" -> ")[1].split()[0]
    assert digest in digests, (line, digests)
    after = table.read_text()
    row = after[after.index('[versions."3.14"]') :].split("\n\n")[0]
    assert f"python:3.14-slim-trixie@{digest}" in row
    assert "as its registry served it on" in row
    others = [r for r in after.split("\n\n") if '[versions."3.14"]' not in r]
    assert others == [r for r in before.split("\n\n") if '[versions."3.14"]' not in r]
    missing = subprocess.run(
        [*script, *common, "--only", "3.12"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1 and "nothing written" in missing.stderr
    assert table.read_text() == after


def test_the_uv_version_a_project_requires_is_the_one_that_exports_its_lock(
    engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    """`[tool.uv] required-version` that cloudsite's own uv (its hashed lock) does not meet:
    the build installs the uv the project asks for and exports the lock with it, as it is."""
    root = startproject(tmp_path / "site")
    tools = (ROOT / "src" / "cloudsite" / "runtime" / "requirements" / "tools-uv.txt").read_text()
    ours = next(line.split("==")[1].split()[0] for line in tools.splitlines() if line[:4] == "uv==")
    wanted = "0.13.10" if ours != "0.13.10" else "0.13.8"
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "site"\nversion = "0"\nrequires-python = ">=3.13"\n'
        'dependencies = ["Django==5.2.19"]\n'
    )
    uv_lock(root)  # the pin is not part of the lock: it is the project's say on who reads it
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.uv]\nrequired-version = "=={wanted}"\n'
        + f"# cstest {time.time_ns()}: this run's own dependency layer, not a cached one\n"
    )
    lock = (root / "uv.lock").read_text()
    (root / "cloudsite.toml").write_text('name = "uvpinned"\n')
    _image, _size, log = cloudsite_build(engine, root, build_env)
    assert f"the project asks for uv =={wanted} ([tool.uv] required-version)" in log
    assert f"Successfully installed uv-{wanted}" in log, log[-3000:]
    assert "(Python 3.13, uv dependencies)" in log
    assert (root / "uv.lock").read_text() == lock  # the user's lock, not rewritten
