"""The stack states an earlier failure leaves behind, and how `up` and `down` get past them
(botocore Stubber with recorded response shapes: moto cannot fail a stack this way)."""

import io
from typing import Any

import pytest

from cloudsite.aws.recovery import stack_prepare
from cloudsite.aws.stack import Follow
from cloudsite.aws.teardown import Report, _delete_stack, stack_describe
from cloudsite.errors import Cancelled, ConfirmationNeeded, StackBusy, StackError
from cloudsite.ui import Ui
from tests.cli.stubs import FakeClock, load, recording

STACK = "wanderpage"


def follow_for(rec: Any, err: io.StringIO, *, confirm: bool | None = None) -> Follow:
    ui = Ui(out=io.StringIO(), err=err, interactive=False)
    if confirm is not None:
        ui.confirm = lambda question, *, yes: confirm  # type: ignore[method-assign]
    return Follow(cfn=rec.clients["cloudformation"], ui=ui, clock=FakeClock(), timeout=2700)


def prepare(
    rec: Any,
    err: io.StringIO,
    *,
    yes: bool = True,
    no_wait: bool = False,
    confirm: bool | None = None,
):
    follow = follow_for(rec, err, confirm=confirm)
    return stack_prepare(
        rec.clients["cloudformation"], STACK, follow=follow, yes=yes, no_wait=no_wait, token="t-1"
    )


def test_rollback_complete_is_deleted_and_recreated_after_confirmation() -> None:
    err = io.StringIO()
    with recording(*load("stack_rollback_complete")) as rec:
        prepared = prepare(rec, err, yes=True)
    assert (prepared.kind, prepared.state) == ("CREATE", None)
    text = err.getvalue()
    # the first real failure, not the cancelled load balancer
    assert (
        "its creation failed earlier: WebLaunchTemplate (AWS::EC2::LaunchTemplate): Resource "
        'handler returned message: "The parameter groupName cannot be used' in text
    )
    assert "LoadBalancer (AWS" not in text
    assert "DELETE_COMPLETE" in text  # the delete's events were streamed


def test_rollback_complete_without_a_terminal_or_yes_asks_for_yes_and_deletes_nothing() -> None:
    with (
        recording(*load("stack_rollback_complete_refused")) as rec,
        pytest.raises(ConfirmationNeeded) as caught,
    ):
        prepare(rec, io.StringIO(), yes=False)
    assert "--yes" in caught.value.hint


def test_rollback_complete_answered_no_is_cancelled_and_deletes_nothing() -> None:
    with recording(*load("stack_rollback_complete_refused")) as rec, pytest.raises(Cancelled):
        prepare(rec, io.StringIO(), yes=False, confirm=False)


def test_update_rollback_failed_continues_the_rollback_then_updates() -> None:
    err = io.StringIO()
    with recording(*load("stack_update_rollback_failed")) as rec:
        prepared = prepare(rec, err)
    assert prepared.kind == "UPDATE"
    assert prepared.state is not None and prepared.state.status == "UPDATE_ROLLBACK_COMPLETE"
    assert "continuing the rollback" in err.getvalue()


def test_update_rollback_that_fails_again_names_the_resource_to_skip() -> None:
    with (
        recording(*load("stack_update_rollback_failed_again")) as rec,
        pytest.raises(StackError) as caught,
    ):
        prepare(rec, io.StringIO())
    assert caught.value.why.startswith(
        "AppSecret (AWS::SecretsManager::Secret) UPDATE_FAILED: You can't"
    )
    assert "--resources-to-skip AppSecret" in caught.value.hint


def test_an_operation_in_progress_is_waited_for() -> None:
    err = io.StringIO()
    with recording(*load("stack_in_progress")) as rec:
        prepared = prepare(rec, err)
    assert prepared.kind == "UPDATE" and prepared.state is not None
    assert prepared.state.status == "UPDATE_COMPLETE"
    assert "waiting for that to finish first" in err.getvalue()


def test_an_operation_in_progress_with_no_wait_says_so_and_stops() -> None:
    with recording(*load("stack_in_progress_no_wait")) as rec, pytest.raises(StackBusy) as caught:
        prepare(rec, io.StringIO(), no_wait=True)
    assert caught.value.why == "UPDATE_IN_PROGRESS: another operation is in progress"
    assert caught.value.exit_code == 1


def _teardown(rec: Any, err: io.StringIO) -> Report:
    from cloudsite.aws import Aws

    aws = Aws(session=None, region="us-east-1", account="123456789012", clients=rec.clients)
    state = stack_describe(
        rec.clients["cloudformation"],
        "arn:aws:cloudformation:us-east-1:123456789012:stack/wanderpage/6a1c2f80-cb7e-11f0-9e3a-0a1b2c3d4e5f",
    )
    assert state is not None
    report = Report(stack=STACK)
    _delete_stack(aws, state, report=report, follow=follow_for(rec, err), token="t", data=False)
    return report


def test_delete_failed_on_a_refilled_bucket_is_emptied_again_and_retried() -> None:
    steps = load("stack_delete_retry")
    err = io.StringIO()
    with recording(steps[0], *steps) as rec:  # steps[0]: the describe _teardown makes first
        report = _teardown(rec, err)
    # 3 versions and a delete marker, then (the load balancer kept logging) 2 and a marker
    assert report.emptied == {"wanderpage-accesslogbucket-1x2y3z": 7}
    assert report.images == 2
    assert (
        "delete failed (AccessLogBucket (AWS::S3::Bucket): "
        "The bucket you tried to delete is not empty" in err.getvalue()
    )
    assert "stack wanderpage deleted" in err.getvalue()


def test_delete_failed_every_time_names_the_resource_that_blocks_and_why() -> None:
    steps = load("stack_delete_blocked")
    with recording(steps[0], *steps) as rec, pytest.raises(StackError) as caught:
        _teardown(rec, io.StringIO())
    assert caught.value.why == (
        "DELETE_FAILED after 3 attempts: InstanceSecurityGroup (AWS::EC2::SecurityGroup): resource "
        "sg-0a1b2c3d4e5f60718 has a dependent object (Service: Ec2, Status Code: 400, Request ID: "
        "8e7d6c5b-4a39-2817-0615-f4e3d2c1b0a9)"
    )
    assert caught.value.hint.startswith("InstanceSecurityGroup blocks the delete")
