"""The CodeBuild stand-in follows CodeBuild's rules; the buildspec test relies on them."""

import os
from pathlib import Path

import pytest
import yaml

from tests.support.codebuild import BuildResult, codebuild_env, load, run_build


def build(tmp_path: Path, spec: dict) -> BuildResult:
    source = tmp_path / "src"
    source.mkdir()
    buildspec = tmp_path / "buildspec.yml"
    buildspec.write_text(yaml.safe_dump({"version": 0.2, **spec}))
    env = codebuild_env(source=source, region="us-east-1", revision="abc", build_number=3)
    env["PATH"] = os.environ["PATH"]
    return run_build(buildspec, source=source, env=env, output=tmp_path / "out")


def test_variables_and_directory_carry_from_command_to_command_and_phase_to_phase(
    tmp_path: Path,
) -> None:
    result = build(
        tmp_path,
        {
            "phases": {
                "install": {"commands": ["export GREETING=hello", "mkdir -p dist && cd dist"]},
                "build": {"commands": ['echo "$GREETING $CODEBUILD_BUILD_NUMBER" > out.txt']},
            },
            "artifacts": {"base-directory": "dist", "files": ["**/*"]},
        },
    )
    assert result.status == "SUCCEEDED", result.log
    assert result.artifacts and (result.artifacts / "out.txt").read_text() == "hello 3\n"


def test_a_failed_pre_build_skips_build_and_post_build_but_runs_its_finally(
    tmp_path: Path,
) -> None:
    result = build(
        tmp_path,
        {
            "phases": {
                "pre_build": {
                    "commands": ["false", "echo after-the-failure"],
                    "finally": ["echo finally-ran"],
                },
                "build": {"commands": ["echo build-ran"]},
                "post_build": {"commands": ["echo post-build-ran"]},
            }
        },
    )
    assert result.status == "FAILED"
    assert result.phases == {"pre_build": "FAILED"}
    assert "finally-ran" in result.log
    assert "after-the-failure" not in result.log and "build-ran" not in result.log


def test_a_failed_build_still_runs_post_build_with_build_succeeding_0(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {
            "phases": {
                "build": {"commands": ["exit_status() { return 3; }; exit_status"]},
                "post_build": {"commands": ['echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"']},
            },
            "artifacts": {"files": ["**/*"]},
        },
    )
    assert result.status == "FAILED"
    assert result.phases == {"build": "FAILED", "post_build": "SUCCEEDED"}
    assert "succeeding=0" in result.log
    assert result.artifacts is None


def test_on_failure_continue_moves_on_and_the_build_still_fails(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {
            "phases": {
                "install": {"on-failure": "CONTINUE", "commands": ["false"]},
                "build": {"commands": ["echo build-ran"]},
            }
        },
    )
    assert result.phases == {"install": "FAILED", "build": "SUCCEEDED"}
    assert result.status == "FAILED" and "build-ran" in result.log


def test_features_the_runner_does_not_implement_are_refused(tmp_path: Path) -> None:
    spec = tmp_path / "buildspec.yml"
    spec.write_text(yaml.safe_dump({"version": 0.2, "env": {"secrets-manager": {"A": "b"}}}))
    with pytest.raises(ValueError, match="secrets-manager"):
        load(spec)


def test_a_command_yaml_reads_as_a_mapping_is_a_yaml_file_error(tmp_path: Path) -> None:
    spec = tmp_path / "buildspec.yml"
    spec.write_text("version: 0.2\nphases:\n  build:\n    commands:\n      - echo error: oops\n")
    with pytest.raises(ValueError, match="YAML_FILE_ERROR"):
        load(spec)
