"""`cloudsite init`: what detection found, cloudsite.toml written once, and --eject: the
runtime layer in the project's own .cloudsite/, whose files then win over cloudsite's."""

import io
import json
import zipfile
from pathlib import Path

from cloudsite.project.shipment import BUILT_IN
from tests.cli.conftest import Recorder, invoke


def test_init_writes_cloudsite_toml_with_what_it_found(project: Path, recorder: Recorder) -> None:
    (project / "cloudsite.toml").unlink()
    result = invoke("init", "--set", "region=us-east-1", env=recorder.env)
    assert result.exit_code == 0, result.stderr
    text = (project / "cloudsite.toml").read_text()
    assert 'name = "wanderpage"' in text and '\nmedia = "auto"\n' in text
    # startproject's admin, auth and sessions write at run time: a database server keeps it
    assert "\ndatabase = true\n" in text
    assert "# admin, auth, sessions write at run time: a PostgreSQL server keeps" in text
    assert '# settings_module = "mysite.settings"' in text
    assert "ok: wrote cloudsite.toml" in result.stderr
    assert "database = true: admin, auth, sessions write at run time" in result.stderr
    assert "warning:" not in result.stderr  # the file it wrote keeps what the apps write
    assert recorder.requests == []


def test_init_never_overwrites_an_existing_cloudsite_toml(
    project: Path, recorder: Recorder
) -> None:
    before = (project / "cloudsite.toml").read_text()
    result = invoke("init", env=recorder.env)
    assert result.exit_code == 0
    assert "cloudsite.toml exists: left as it is" in result.stderr
    assert (project / "cloudsite.toml").read_text() == before


def test_eject_writes_every_runtime_file_and_the_projects_copy_ships(
    project: Path, recorder: Recorder
) -> None:
    result = invoke("init", "--eject", env=recorder.env)
    assert result.exit_code == 0, result.stderr
    ejected = project / ".cloudsite" / "runtime"
    for name in (
        "Dockerfile",
        "build.py",
        "buildspec.yml",
        "hooks/ApplicationStart.sh",
        "bin/start",
    ):
        assert (ejected / name).read_bytes() == (BUILT_IN / name).read_bytes(), name
    assert (ejected / "bin" / "start").stat().st_mode & 0o111
    assert (
        json.loads((project / ".cloudsite" / "project.json").read_text())["settings"]
        == "mysite.settings"
    )
    assert (project / ".cloudsite" / ".gitignore").read_text().endswith("local/\n")
    # The project changes its copy of a hook: plan says so, and the zip carries that copy.
    hook = ejected / "hooks" / "ValidateService.sh"
    hook.write_text(hook.read_text() + "# the project's own change\n")
    plan = invoke("template", "--parameters", env=recorder.env)
    assert plan.exit_code == 0, plan.stderr
    from cloudsite.project.detect import detect
    from cloudsite.project.shipment import extra_entries, runtime_in_use
    from cloudsite.project.source import package_build
    from tests.support.layer import project_config

    found = detect(project)
    package = package_build(project, extra=extra_entries(found, project_config(project)))
    shipped = zipfile.ZipFile(io.BytesIO(package.data))
    assert shipped.read(".cloudsite/runtime/hooks/ValidateService.sh").endswith(b"own change\n")
    assert [
        f.name
        for f in runtime_in_use(project)
        if f.ejected and f.path.read_bytes() != (BUILT_IN / f.name).read_bytes()
    ] == ["hooks/ValidateService.sh"]


def test_eject_again_refuses_to_replace_the_projects_changes_without_force(
    project: Path, recorder: Recorder
) -> None:
    assert invoke("init", "--eject", env=recorder.env).exit_code == 0
    changed = project / ".cloudsite" / "runtime" / "Dockerfile"
    changed.write_text(changed.read_text() + "# mine\n")
    again = invoke("init", "--eject", env=recorder.env)
    assert again.exit_code == 2
    assert again.stderr.splitlines()[0].startswith("error: init --eject: 1 file(s) in .cloudsite/")
    assert changed.read_text().endswith("# mine\n")
    forced = invoke("init", "--eject", "--force", env=recorder.env)
    assert forced.exit_code == 0
    assert not changed.read_text().endswith("# mine\n")
