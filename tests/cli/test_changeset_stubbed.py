"""`up`'s change set: a summary before anything changes, "no changes" is success, and a no or
a Ctrl-C leaves nothing behind (botocore Stubber, with response shapes as AWS returns them)."""

import io
from pathlib import Path
from typing import Any

import pytest

from cloudsite import config, template
from cloudsite.aws import infra
from cloudsite.context import Context
from cloudsite.errors import Cancelled
from cloudsite.ui import Ui
from tests.cli.stubs import FakeClock, recording

STACK = "wanderpage"
SID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/wanderpage/"
    "0c1d2e3f-cb7e-11f0-9e3a-0a1b2c3d4e5f"
)
CSID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cloudsite-up-20261127T120000/4f5e"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  CertificateArn: {Type: String}
Resources:
  Topic: {Type: AWS::SNS::Topic}
"""


def cfn(
    operation: str,
    expect: dict[str, Any] | None = None,
    response: dict | None = None,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    step: dict[str, Any] = {"service": "cloudformation", "operation": operation}
    if expect is not None:
        step["expect"] = expect
    if error:
        step["error"] = {"code": error[0], "message": error[1]}
    else:
        step["response"] = response or {}
    return step


ISSUED = {
    "service": "acm",
    "operation": "describe_certificate",
    "expect": {"CertificateArn": CERT},
    "response": {"Certificate": {"CertificateArn": CERT, "Status": "ISSUED"}},
}
NO_STACK = cfn(
    "describe_stacks",
    {"StackName": STACK},
    error=("ValidationError", "Stack with id wanderpage does not exist"),
)
CREATE = cfn("create_change_set", None, {"Id": CSID, "StackId": SID})


def described(status: str, reason: str = "", changes: list | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "ChangeSetName": "cloudsite-up-20261127T120000",
        "ChangeSetId": CSID,
        "StackId": SID,
        "StackName": STACK,
        "Status": status,
        "ExecutionStatus": "AVAILABLE",
        "Changes": changes or [],
    }
    if reason:
        response["StatusReason"] = reason
    return cfn("describe_change_set", {"ChangeSetName": CSID}, response)


def add(logical: str, rtype: str) -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Add",
            "LogicalResourceId": logical,
            "ResourceType": rtype,
            "Scope": [],
            "Details": [],
        },
    }


DISCARD = [
    cfn("delete_change_set", {"ChangeSetName": CSID}),
    cfn(
        "describe_stacks",
        {"StackName": SID},
        {
            "Stacks": [
                {
                    "StackId": SID,
                    "StackName": STACK,
                    "CreationTime": "2026-11-27T12:00:00Z",
                    "StackStatus": "REVIEW_IN_PROGRESS",
                }
            ]
        },
    ),
    cfn("delete_stack", {"StackName": SID}),
]


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setattr(template, "template_text", lambda: TEMPLATE)
    (tmp_path / "cloudsite.toml").write_text(
        f'name = "{STACK}"\nregion = "us-east-1"\ncertificate_arn = "{CERT}"\n'
        'media = "none"\nredis = "off"\n'  # no project here to detect: these tests are about
        # the change set
    )
    cfg = config.load(path=tmp_path / "cloudsite.toml", env={}, overrides={})
    return Context(
        cfg=cfg, ui=Ui(out=io.StringIO(), err=io.StringIO(), interactive=False), clock=FakeClock()
    )


def run(ctx: Context, steps: list[dict[str, Any]], *, answer: Any) -> infra.Applied:
    def confirm(question: str, *, yes: bool) -> bool:
        if isinstance(answer, BaseException):
            raise answer
        return bool(answer)

    ctx.ui.confirm = confirm  # type: ignore[method-assign]
    with recording(ISSUED, *steps) as rec:  # the given certificate is checked first
        ctx.aws = rec.aws()
        return infra.stack_apply(ctx, yes=False, no_wait=False)


def test_answering_no_deletes_the_change_set_and_the_empty_new_stack(ctx: Context) -> None:
    steps = [
        NO_STACK,
        CREATE,
        described("CREATE_COMPLETE", changes=[add("Topic", "AWS::SNS::Topic")]),
        *DISCARD,
    ]
    with pytest.raises(Cancelled):
        run(ctx, steps, answer=False)
    err = ctx.ui.err.getvalue()  # type: ignore[attr-defined]
    assert "  add            Topic                                AWS::SNS::Topic" in err
    assert "1 to add" in err


def test_ctrl_c_at_the_question_deletes_the_change_set_and_the_empty_new_stack(
    ctx: Context,
) -> None:
    steps = [
        NO_STACK,
        CREATE,
        described("CREATE_COMPLETE", changes=[add("Topic", "AWS::SNS::Topic")]),
        *DISCARD,
    ]
    with pytest.raises(KeyboardInterrupt):
        run(ctx, steps, answer=KeyboardInterrupt())


def test_no_changes_is_a_success_and_removes_the_empty_change_set(ctx: Context) -> None:
    existing = {
        "Stacks": [
            {
                "StackId": SID,
                "StackName": STACK,
                "CreationTime": "2026-11-27T11:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": "SiteUrl", "OutputValue": "https://x"}],
            }
        ]
    }
    steps = [
        cfn("describe_stacks", {"StackName": STACK}, existing),
        CREATE,
        described(
            "FAILED",
            reason="The submitted information didn't contain changes. "
            "Submit different information to create a change set.",
        ),
        cfn("delete_change_set", {"ChangeSetName": CSID}),
        cfn("describe_stacks", {"StackName": STACK}, existing),
    ]
    applied = run(ctx, steps, answer=AssertionError("no question when nothing changes"))
    assert applied.changes == 0
    assert applied.state.outputs == {"SiteUrl": "https://x"}
    assert "is up to date: no changes" in ctx.ui.err.getvalue()  # type: ignore[attr-defined]


def modify(logical: str, rtype: str, *details: tuple[str, str, str, str]) -> dict[str, Any]:
    """A Modify as CloudFormation describes it: (target name, evaluation, source, cause)."""
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": logical,
            "PhysicalResourceId": f"{STACK}-{logical}-1A2B3C4D5E6F",
            "ResourceType": rtype,
            "Replacement": "False",
            "Scope": ["Properties"],
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": name,
                        "RequiresRecreation": "Never",
                    },
                    "Evaluation": evaluation,
                    "ChangeSource": source,
                    "CausingEntity": cause,
                }
                for name, evaluation, source, cause in details
            ],
        },
    }


EXISTING = cfn(
    "describe_stacks",
    {"StackName": STACK},
    {
        "Stacks": [
            {
                "StackId": SID,
                "StackName": STACK,
                "CreationTime": "2026-11-27T11:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
            }
        ]
    },
)
# A new instance type, as CloudFormation reports it: the launch template's data changes (a
# new version), and the group's LaunchTemplate follows that version's number.
NEW_INSTANCE_TYPE = [
    modify(
        "LaunchTemplate",
        "AWS::EC2::LaunchTemplate",
        ("LaunchTemplateData", "Static", "ParameterReference", "InstanceType"),
    ),
    modify(
        "AutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        ("LaunchTemplate", "Dynamic", "ResourceAttribute", "LaunchTemplate.LatestVersionNumber"),
    ),
]


def test_up_says_the_instances_will_be_replaced_before_asking(ctx: Context) -> None:
    steps = [
        EXISTING,
        CREATE,
        described("CREATE_COMPLETE", changes=NEW_INSTANCE_TYPE),
        cfn("delete_change_set", {"ChangeSetName": CSID}),
    ]
    with pytest.raises(Cancelled):
        run(ctx, steps, answer=False)
    err = ctx.ui.err.getvalue()  # type: ignore[attr-defined]
    assert err.splitlines()[-1] == (
        "  instances will be replaced one at a time (rolling update): "
        "AutoScalingGroup.LaunchTemplate, LaunchTemplate changes"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            NEW_INSTANCE_TYPE,
            ("rolling update", ("AutoScalingGroup.LaunchTemplate", "LaunchTemplate")),
        ),
        (
            [
                modify(
                    "AutoScalingGroup",
                    "AWS::AutoScaling::AutoScalingGroup",
                    ("VPCZoneIdentifier", "Static", "ParameterReference", "PublicSubnetIds"),
                )
            ],
            ("rolling update", ("AutoScalingGroup.VPCZoneIdentifier",)),
        ),
        (
            [
                modify(
                    "AutoScalingGroup",
                    "AWS::AutoScaling::AutoScalingGroup",
                    ("MaxSize", "Static", "ParameterReference", "MaxSize"),
                ),
                modify(
                    "CpuScaling",
                    "AWS::AutoScaling::ScalingPolicy",
                    (
                        "TargetTrackingConfiguration",
                        "Static",
                        "ParameterReference",
                        "ScalingCpuTarget",
                    ),
                ),
            ],
            None,
        ),
    ],
    ids=["instance-type", "subnets", "sizes-and-targets"],
)
def test_only_launch_template_and_placement_changes_replace_instances(
    changes: list[dict[str, Any]], expected: tuple[str, tuple[str, ...]] | None
) -> None:
    from cloudsite.aws.changeset import _changes, instance_replacement

    parsed = _changes(None, {"Changes": changes})  # CloudFormation's shape, as `up` reads it
    found = instance_replacement(parsed)
    assert (None if found is None else (found.how, found.because)) == expected
