"""Following a pipeline execution (botocore Stubber with recorded response shapes: moto has
no list_action_executions, and no CodeBuild or CodeDeploy runs to fail)."""

import io

import pytest

from cloudsite.aws import pipeline
from cloudsite.errors import PipelineError, WaitTimeout
from cloudsite.ui import Ui
from tests.cli.stubs import FakeClock, load, recording

PIPELINE = "wanderpage-pipeline"
EXECUTION = "3137f7cb-8d94-4a6e-9c3e-6f2f1c7a2b01"


def follow(rec, *, timeout: float = 1800) -> tuple[str, str, FakeClock]:
    err = io.StringIO()
    clock = FakeClock()
    clients = pipeline.Clients(
        codepipeline=rec.clients["codepipeline"],
        codebuild=rec.clients.get("codebuild"),
        codedeploy=rec.clients.get("codedeploy"),
        logs=rec.clients.get("logs"),
    )
    ui = Ui(out=io.StringIO(), err=err, interactive=False)
    result = pipeline.pipeline_follow(
        clients, PIPELINE, EXECUTION, ui=ui, clock=clock, timeout=timeout
    )
    return result, err.getvalue(), clock


def test_following_a_pipeline_to_success_shows_each_stage_once_in_order() -> None:
    with recording(*load("pipeline_success")) as rec:
        result, err, clock = follow(rec)
    assert result == EXECUTION
    stages = [
        line.strip()
        for line in err.splitlines()
        if line.strip().startswith(("Source", "Build", "Deploy"))
    ]
    assert stages == [
        "Source: Succeeded (3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY)",
        "Build: InProgress (wanderpage-build:7d1c4e0a-52a4-4f55-9c6c-2f0b3c1d9e8f)",
        "Build: Succeeded (wanderpage-build:7d1c4e0a-52a4-4f55-9c6c-2f0b3c1d9e8f)",
        "Deploy: InProgress (d-9XK2ZQ3AB)",
        "Deploy: Succeeded (d-9XK2ZQ3AB)",
    ]
    assert clock.slept == [5.0, 5.0]  # two polls in progress, then done


def test_a_failed_build_reports_the_failed_phase_and_the_log_tail() -> None:
    with recording(*load("pipeline_build_failure")) as rec, pytest.raises(PipelineError) as caught:
        follow(rec)
    err = caught.value
    assert err.what == "Build: build wanderpage-build:7d1c4e0a-52a4-4f55-9c6c-2f0b3c1d9e8f"
    assert err.why == (
        "BUILD phase failed: Error while executing command: python -m pytest -q tests/site. "
        "Reason: exit status 1"
    )
    assert err.details[0] == "last 12 lines of the build log:"
    assert (
        "E       AssertionError: assert b'The world is a book' in b'<!doctype html>...'"
        in err.details
    )
    assert err.details[-1].endswith("Reason: exit status 1")
    assert "cloudsite logs build" in err.hint


def test_a_project_problem_in_codebuild_is_the_same_one_line_error_as_a_local_build() -> None:
    """The recorded log holds what build.py printed for a project whose settings need a
    variable (tests/cli/recorded/pipeline_build_project_failure.json): `up` leads with that
    line and its hint, exactly as `cloudsite build` prints them here."""
    with (
        recording(*load("pipeline_build_project_failure")) as rec,
        pytest.raises(PipelineError) as caught,
    ):
        follow(rec)
    err = caught.value
    assert err.why == "settings: importing mysite.settings failed: DJANGO_ADMIN_URL is not set"
    assert err.hint.startswith('the build needs a value for it, not a secret: environment = ["')
    assert err.hint.endswith("; then `cloudsite deploy`")
    assert (
        err.details[0].startswith("last ")
        and "Phase complete: BUILD State: FAILED" in err.details[-2]
    )


def test_a_failed_deploy_reports_the_failed_hook_and_its_script_output() -> None:
    with recording(*load("pipeline_deploy_failure")) as rec, pytest.raises(PipelineError) as caught:
        follow(rec)
    err = caught.value
    assert err.what == "Deploy: deployment d-9XK2ZQ3AB"
    assert err.why == (
        "ValidateService failed on i-0a1b2c3d4e5f60718: Script at specified location: "
        "hooks/ValidateService.sh run as user root failed with exit code 1"
    )
    assert err.details == [
        "output of hooks/ValidateService.sh:",
        "[stdout]validate: waiting for http://127.0.0.1:8000/readyz (up to 120 s)",
        "[stdout]validate: /healthz 200",
        "[stdout]validate: /readyz 503 database: connection refused",
        "[stderr]validate: /readyz never passed within 120 s; failing so CodeDeploy rolls back",
    ]
    assert "rolled back" in err.hint


def test_a_pipeline_that_never_finishes_times_out_saying_what_it_waited_for() -> None:
    steps = load("pipeline_success")
    in_progress = steps[1:3]  # get_pipeline_execution + list_action_executions, InProgress
    with recording(steps[0], *in_progress * 3) as rec, pytest.raises(WaitTimeout) as caught:
        follow(rec, timeout=10)
    assert caught.value.what == f"pipeline {PIPELINE}"
    assert caught.value.why == "gave up after 10 s (still InProgress)"
    assert "keeps running" in caught.value.hint
