"""Steps 5-7 of `up` past what moto can play: GitHub mode's pipeline trigger, and following a
pipeline to success then smoke-checking the site over real TLS against the self-signed
certificate (botocore Stubber for the AWS side, a local HTTPS server for the site)."""

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cloudsite import config
from cloudsite.aws import deploy
from cloudsite.aws.selfsigned import self_signed_create
from cloudsite.aws.stack import StackState
from cloudsite.context import Context
from cloudsite.errors import VerifyFailed
from cloudsite.ui import Ui
from tests.cli.conftest import https_site
from tests.cli.stubs import FakeClock, load, recording

PIPELINE = "wanderpage-pipeline"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def context(tmp_path: Path, **settings: Any) -> Context:
    (tmp_path / "cloudsite.toml").write_text('name = "wanderpage"\nregion = "us-east-1"\n')
    cfg = replace(config.load(path=tmp_path / "cloudsite.toml", env={}, overrides={}), **settings)
    return Context(
        cfg=cfg,
        ui=Ui(out=io.StringIO(), err=io.StringIO(), interactive=False),
        clock=FakeClock(poll=5.0),
    )


def state(url: str = "https://example.invalid") -> StackState:
    return StackState(
        name="wanderpage",
        stack_id="arn:stack",
        status="UPDATE_COMPLETE",
        outputs={"PipelineName": PIPELINE, "SiteUrl": url},
    )


def cp(operation: str, expect: dict[str, Any] | None, response: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"service": "codepipeline", "operation": operation, "response": response}
    if expect is not None:
        step["expect"] = expect
    return step


GITHUB = {
    "source_mode": "github",
    "github_connection_arn": "arn:aws:codeconnections:us-east-1:123456789012:connection/"
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "github_repository": "octocat/wanderpage",
}


def summary(execution: str, status: str) -> dict[str, Any]:
    return {
        "pipelineExecutionId": execution,
        "status": status,
        "startTime": "2026-11-27T12:00:00Z",
        "trigger": {"triggerType": "WebhookV2"},
    }


def test_github_mode_follows_the_execution_a_push_started(tmp_path: Path) -> None:
    ctx = context(tmp_path, **GITHUB)
    steps = [
        cp(
            "list_pipeline_executions",
            {"pipelineName": PIPELINE, "maxResults": 5},
            {
                "pipelineExecutionSummaries": [
                    summary("e-push", "InProgress"),
                    summary("e-old", "Succeeded"),
                ]
            },
        )
    ]
    with recording(*steps) as rec:
        ctx.aws = rec.aws()
        shipped = deploy.source_ship(ctx, state())
    assert (shipped.execution_id, shipped.version_id) == ("e-push", "")
    assert "already running execution e-push (a push); following it" in ctx.ui.err.getvalue()  # type: ignore[attr-defined]


def test_github_mode_starts_the_pipeline_on_the_branch_when_nothing_runs(tmp_path: Path) -> None:
    ctx = context(tmp_path, **GITHUB)
    steps = [
        cp(
            "list_pipeline_executions",
            {"pipelineName": PIPELINE, "maxResults": 5},
            {"pipelineExecutionSummaries": [summary("e-old", "Succeeded")]},
        ),
        # no sourceRevisions: the source action takes the branch's latest commit
        cp(
            "start_pipeline_execution",
            {"name": PIPELINE, "clientRequestToken": "<any>"},
            {"pipelineExecutionId": "e-new"},
        ),
    ]
    with recording(*steps) as rec:
        ctx.aws = rec.aws()
        shipped = deploy.source_ship(ctx, state())
    assert shipped.execution_id == "e-new"
    assert "on octocat/wanderpage@main" in ctx.ui.err.getvalue()  # type: ignore[attr-defined]


def test_up_follows_the_pipeline_then_verifies_the_site_and_fails_a_bare_edge(
    tmp_path: Path,
    resolve_to_loopback: None,
) -> None:
    pair = self_signed_create("wanderpage", region="us-east-1", now=datetime.now(UTC))
    ctx = context(tmp_path)
    pipeline = load("pipeline_success")
    acm = [
        {
            "service": "acm",
            "operation": "list_certificates",
            "response": {
                "CertificateSummaryList": [
                    {
                        "CertificateArn": CERT,
                        "DomainName": "wanderpage.cloudsite.invalid",
                        "Status": "ISSUED",
                    }
                ]
            },
        },
        {
            "service": "acm",
            "operation": "list_tags_for_certificate",
            "expect": {"CertificateArn": CERT},
            "response": {
                "Tags": [
                    {"Key": "cloudsite:stack", "Value": "wanderpage"},
                    {"Key": "cloudsite:certificate", "Value": "self-signed"},
                ]
            },
        },
        {
            "service": "acm",
            "operation": "get_certificate",
            "expect": {"CertificateArn": CERT},
            "response": {"Certificate": pair.certificate_pem.decode()},
        },
    ]
    with https_site(pair, tmp_path) as url, recording(*pipeline, *acm) as rec:
        # Without the stack's outputs the API checks have nothing to describe.
        rec.expect_no_calls("codebuild", "codedeploy", "logs", "ec2", "elbv2")
        ctx.aws = rec.aws()
        shipped = deploy.Shipped(
            pipeline=PIPELINE, execution_id="3137f7cb-8d94-4a6e-9c3e-6f2f1c7a2b01"
        )
        with pytest.raises(VerifyFailed) as failed:
            deploy.delivery_follow(ctx, state(url), shipped, certificate_arn=CERT)
    err = ctx.ui.err.getvalue()  # type: ignore[attr-defined]
    assert "ok: pipeline wanderpage-pipeline succeeded" in err
    assert f"ok: {url} answers over HTTPS" in err
    # The bare test server answers over TLS but is no hardened edge: no HTTP listener to
    # redirect, no security headers, and none of the stack outputs the API checks read.
    # `up` runs every verify check, prints the checklist and fails on what is wrong.
    assert "the site is live, but" in failed.value.why
    for check in ("redirect", "headers", "targets", "lb-firewall"):
        assert check in failed.value.why
    assert "TLS 1.0" in err and "refused" in err
    assert "security headers" in err


@pytest.fixture(autouse=True)
def _no_env(clean_env: pytest.MonkeyPatch) -> None:
    """No developer AWS settings reach the stubbed clients."""
