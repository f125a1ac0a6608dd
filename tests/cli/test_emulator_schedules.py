"""[schedule] on AWS (aws/schedules.py) against moto's server, with the stack `up` made: `up`
makes one EventBridge Scheduler schedule per entry in the stack's group, `deploy` and a
direct sync update what changed and delete what is gone, the target's Input is SendCommand's
request exactly as botocore's model of SSM takes it (and as the stack's ScheduleDocument
admits it), `status` lists them, and `up` without [schedule] or `down` removes the group with
them. moto stores schedules and runs nothing; what a run does on the instances is
tests/template/test_background.py's and the runtime's business."""

import base64
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from cloudsite.aws import Aws, schedules
from cloudsite.aws.stack import stack_describe
from cloudsite.aws.status import status_gather, status_lines
from cloudsite.errors import UsageError
from cloudsite.outputs import Output
from cloudsite.schema import Scheduled
from tests.cli.conftest import invoke
from tests.cli.test_emulator import STACK
from tests.cli.test_emulator import site as site  # the fixture: a startproject, here
from tests.support.layer import project_config

pytestmark = pytest.mark.emulator
TOML = f"""name = "{STACK}"
region = "us-east-1"
database = true

[schedule]
nightly = {{ cron = "0 3 * * *", command = "manage.py clearsessions" }}

[schedule.digest]
rate = "15 minutes"
command = "python manage.py send_digest --since '1 hour'"
timeout_minutes = 5
"""
WANTED = {"nightly": "cron(0 3 * * ? *)", "digest": "rate(15 minutes)"}
# The time EventBridge Scheduler puts in place of <aws.scheduler.scheduled-time>.
SCHEDULED_AT = "2026-12-08T03:00:00Z"


@pytest.fixture
def deployed(site: Path) -> dict[str, str]:
    """The stack `up` with the two schedules of TOML; its outputs."""
    (site / "cloudsite.toml").write_text(TOML)
    result = invoke("up", "--yes", "--detach")
    assert result.exit_code == 0, result.stderr
    assert "schedules: created nightly, digest\n" in result.stderr
    return outputs()


def outputs() -> dict[str, str]:
    state = stack_describe(boto3.client("cloudformation"), STACK)
    assert state is not None
    return state.outputs


def aws() -> Aws:
    return Aws(session=boto3.Session(), region="us-east-1")


def listed(group: str = STACK) -> dict[str, dict[str, Any]]:
    scheduler = boto3.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return {name: scheduler.get_schedule(Name=name, GroupName=group) for name in names}


def send_command_input(schedule: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(schedule["Target"]["Input"]))


def test_up_makes_one_schedule_per_entry_in_the_stacks_group(deployed: dict[str, str]) -> None:
    assert deployed[Output.SCHEDULE_GROUP_NAME] == STACK
    found = listed()
    assert {name: s["ScheduleExpression"] for name, s in found.items()} == WANTED
    for schedule in found.values():
        assert schedule["GroupName"] == STACK
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["State"] == "ENABLED"
        target = schedule["Target"]
        assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:ssm:sendCommand"
        assert target["RoleArn"] == deployed[Output.SCHEDULER_ROLE_ARN]
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 0,
            "MaximumEventAgeInSeconds": 3600,
        }
    assert found["digest"]["Description"] == (
        f"cloudsite {STACK}: python manage.py send_digest --since '1 hour'"
    )


def test_the_input_is_send_commands_request_exactly(deployed: dict[str, str]) -> None:
    shape = boto3.client("ssm").meta.service_model.operation_model("SendCommand").input_shape
    found = listed()
    for name, schedule in found.items():
        request = send_command_input(schedule)
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
        assert request["DocumentName"] == deployed[Output.SCHEDULE_DOCUMENT_NAME]
        assert request["Targets"] == [
            {
                "Key": "tag:aws:autoscaling:groupName",
                "Values": [deployed[Output.AUTO_SCALING_GROUP_NAME]],
            }
        ]
        assert request["CloudWatchOutputConfig"] == {
            "CloudWatchOutputEnabled": True,
            "CloudWatchLogGroupName": deployed[Output.MANAGE_LOG_GROUP_NAME],
        }
        assert request["TimeoutSeconds"] == 300
        assert set(request) == {
            "DocumentName",
            "Targets",
            "Parameters",
            "TimeoutSeconds",
            "CloudWatchOutputConfig",
        }
        parameters = request["Parameters"]
        assert parameters["name"] == [name]
        assert parameters["scheduledTime"] == ["<aws.scheduler.scheduled-time>"]
    digest = send_command_input(found["digest"])["Parameters"]
    words = json.loads(base64.b64decode(digest["arguments"][0]))
    assert words == ["python", "manage.py", "send_digest", "--since", "1 hour"]
    assert words == shlex.split("python manage.py send_digest --since '1 hour'")
    assert digest["timeout"] == ["300"]  # timeout_minutes = 5
    nightly = send_command_input(found["nightly"])["Parameters"]
    assert json.loads(base64.b64decode(nightly["arguments"][0])) == ["manage.py", "clearsessions"]
    assert nightly["timeout"] == ["3600"]  # the default 60 minutes


def test_the_stacks_document_admits_every_value_a_schedule_sends(
    deployed: dict[str, str],
) -> None:
    document = boto3.client("ssm").get_document(Name=deployed[Output.SCHEDULE_DOCUMENT_NAME])
    spec = json.loads(document["Content"])["parameters"]
    for schedule in listed().values():
        for name, (value,) in send_command_input(schedule)["Parameters"].items():
            sent = SCHEDULED_AT if value == "<aws.scheduler.scheduled-time>" else value
            assert re.fullmatch(spec[name]["allowedPattern"], sent), (name, sent)
            assert len(sent) <= spec[name].get("maxChars", len(sent))


def test_a_sync_updates_what_changed_deletes_what_is_gone_and_makes_what_is_new(
    deployed: dict[str, str], site: Path
) -> None:
    cfg = project_config(site)
    nightly = next(e for e in cfg.schedule if e.name == "nightly")
    changed = replace(nightly, cron="0 4 * * ? *", timeout_minutes=90)
    weekly = Scheduled("weekly", "manage.py check", cron="0 5 ? * 2 *")
    synced = schedules.sync(aws(), deployed, replace(cfg, schedule=(changed, weekly)))
    assert (synced.created, synced.updated, synced.deleted, synced.unchanged) == (
        ["weekly"],
        ["nightly"],
        ["digest"],
        [],
    )
    assert synced.summary() == "schedules: created weekly; updated nightly; deleted digest"
    found = listed()
    assert {n: s["ScheduleExpression"] for n, s in found.items()} == {
        "nightly": "cron(0 4 * * ? *)",
        "weekly": "cron(0 5 ? * 2 *)",
    }
    assert send_command_input(found["nightly"])["Parameters"]["timeout"] == ["5400"]
    again = schedules.sync(aws(), deployed, replace(cfg, schedule=(changed, weekly)))
    assert (again.created, again.updated, again.deleted) == ([], [], [])
    assert again.unchanged == ["nightly", "weekly"]
    assert again.summary() == "schedules: 2 unchanged"


def test_deploy_brings_the_schedules_in_line_with_cloudsite_toml(
    deployed: dict[str, str], site: Path
) -> None:
    toml = site / "cloudsite.toml"
    toml.write_text(toml.read_text().replace('rate = "15 minutes"', 'rate = "30 minutes"'))
    result = invoke("deploy", "--detach")
    assert result.exit_code == 0, result.stderr
    assert "schedules: updated digest; 1 unchanged\n" in result.stderr
    assert listed()["digest"]["ScheduleExpression"] == "rate(30 minutes)"


def test_status_lists_the_schedules(deployed: dict[str, str]) -> None:
    report = status_gather(aws(), STACK)
    assert report["schedules"]["items"] == [
        {"schedule": "digest", "expression": "rate(15 minutes)", "state": "ENABLED"},
        {"schedule": "nightly", "expression": "cron(0 3 * * ? *)", "state": "ENABLED"},
    ]
    lines = status_lines(report)
    assert "schedules digest rate(15 minutes) ENABLED" in lines
    assert "          nightly cron(0 3 * * ? *) ENABLED" in lines


def test_up_without_schedules_turns_the_group_off(deployed: dict[str, str], site: Path) -> None:
    """CloudFormation then deletes the group, and EventBridge Scheduler its schedules with it
    (tests/template/test_background.py: the group exists only with EnableSchedules); moto's
    stack update keeps resources whose condition turned false, so only the parameter, the
    outputs and what the CLI does are checked here."""
    (site / "cloudsite.toml").write_text(TOML.split("[schedule]")[0])
    result = invoke("up", "--yes", "--detach")
    assert result.exit_code == 0, result.stderr
    state = stack_describe(boto3.client("cloudformation"), STACK)
    assert state is not None
    assert state.parameters["EnableSchedules"] == "false"
    assert Output.SCHEDULE_GROUP_NAME not in state.outputs
    assert "schedules:" not in result.stderr  # nothing left for the CLI to do
    assert "schedules" not in status_gather(aws(), STACK)  # and status says nothing of them


def test_down_deletes_the_group_and_its_schedules(deployed: dict[str, str]) -> None:
    result = invoke("down", "--yes")
    assert result.exit_code == 0, result.stderr
    groups = boto3.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    assert [g["Name"] for g in groups] == ["default"]


def test_schedules_on_a_stack_without_a_group_say_to_run_up(site: Path) -> None:
    cfg = project_config(site, database=True)
    entry = Scheduled("nightly", "manage.py clearsessions", cron="0 3 * * ? *")
    old = {Output.AUTO_SCALING_GROUP_NAME: "asg", Output.MANAGE_LOG_GROUP_NAME: "/x/manage"}
    with pytest.raises(UsageError) as caught:
        schedules.sync(aws(), old, replace(cfg, schedule=(entry,)))
    assert caught.value.what == "schedule"
    assert "no ScheduleGroupName output" in caught.value.why
    assert "run `cloudsite up`" in caught.value.hint
    # Without [schedule] there is nothing to do, and no call is made.
    assert schedules.sync(Aws(session=None, region="us-east-1"), old, cfg).summary() == ""


def test_a_command_too_long_for_the_document_is_refused_before_any_call() -> None:
    entry = Scheduled("big", "manage.py loaddata " + "x" * 7000, cron="0 3 * * ? *")
    with pytest.raises(UsageError) as caught:
        schedules.arguments(entry)
    assert caught.value.what == "schedule.big"
    assert "over the 8192 that Run Command takes" in caught.value.why
