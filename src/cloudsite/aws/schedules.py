"""[schedule] on AWS: one EventBridge Scheduler schedule per entry, in the stack's schedule
group (the template's ScheduleGroup, named after the stack; docs/background.md).

    sync(aws, outputs, cfg) -> Synced      after `up` and before `deploy` ships: the group
                                           holds exactly cfg.schedule, no more, no less
    listed(aws, outputs) -> [schedule]     what `status` shows

The template makes the group, its role and its document, not the schedules, since their
number varies; deleting the stack deletes the group and so its schedules. Each schedule's
target is EventBridge Scheduler's universal target for SSM SendCommand: at each time it sends
the stack's ScheduleDocument to every instance of the Auto Scaling group (by the tag
aws:autoscaling:groupName), with the entry's name, the time the run is for
(<aws.scheduler.scheduled-time>, e.g. 2026-12-08T03:00:00Z), its command's words and its
timeout; the instances' manage.sh lets exactly one of them run it, the one that claims the
database's row for (name, time). Nothing secret goes in: Run Command keeps the parameters
for 30 days. A missed run is not retried (MaximumRetryAttempts 0): the next time runs.
"""

import base64
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cloudsite.aws import Aws, calling, error_code
from cloudsite.config import Config
from cloudsite.errors import UsageError
from cloudsite.outputs import Output
from cloudsite.schema import Scheduled

# EventBridge Scheduler's universal target for SSM's SendCommand (arn:<partition>:...).
SEND_COMMAND: Final = "arn:{partition}:scheduler:::aws-sdk:ssm:sendCommand"
# Filled in by EventBridge Scheduler at each run: the time the run is for, ISO 8601 UTC.
SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"
# Every instance of an Auto Scaling group carries its group's name in this tag.
GROUP_TAG: Final = "tag:aws:autoscaling:groupName"
# SendCommand's TimeoutSeconds: an instance must start the command within this, as with
# `cloudsite manage` (aws/manage.py).
DELIVERY_SECONDS: Final = 300
# A run that could not be delivered is dropped after an hour, never retried: the next time
# is the next run.
RETRY_POLICY: Final = {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600}
ARGUMENTS_MAX: Final = 8192  # the document's maxChars for `arguments`
# The outputs a stack with schedules has (EnableSchedules), and the ones every stack has.
NEEDED: Final = (
    Output.SCHEDULE_GROUP_NAME,
    Output.SCHEDULER_ROLE_ARN,
    Output.SCHEDULE_DOCUMENT_NAME,
    Output.AUTO_SCALING_GROUP_NAME,
    Output.MANAGE_LOG_GROUP_NAME,
)
# What sync compares of a schedule (get_schedule answers more: its ARN, its dates).
COMPARED: Final = (
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "State",
    "Target",
)


@dataclass
class Synced:
    """What sync did, by schedule name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal, or '' when there are no schedules and were none."""
        parts = [
            f"{what} {', '.join(names)}"
            for what, names in (
                ("created", self.created),
                ("updated", self.updated),
                ("deleted", self.deleted),
            )
            if names
        ]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        return "schedules: " + "; ".join(parts) if parts else ""


def arguments(entry: Scheduled) -> str:
    """The entry's command as the document's `arguments`: base64 of a JSON array of its
    words, split as a shell would (validate.py checked that it splits)."""
    words = shlex.split(entry.command)
    encoded = base64.b64encode(json.dumps(words).encode()).decode()
    if len(encoded) > ARGUMENTS_MAX:
        raise UsageError(
            f"schedule.{entry.name}",
            f"its command is {len(encoded)} characters encoded, over the {ARGUMENTS_MAX} "
            "that Run Command takes (from cloudsite.toml)",
            hint="move the long part into a management command of the project's",
        )
    return encoded


def send_command(entry: Scheduled, outputs: Mapping[str, str]) -> dict[str, Any]:
    """SendCommand's request, as the schedule's target Input: the stack's ScheduleDocument to
    every instance of its Auto Scaling group, output to the manage log group."""
    return {
        "DocumentName": outputs[Output.SCHEDULE_DOCUMENT_NAME],
        "Targets": [{"Key": GROUP_TAG, "Values": [outputs[Output.AUTO_SCALING_GROUP_NAME]]}],
        "Parameters": {
            "name": [entry.name],
            "scheduledTime": [SCHEDULED_TIME],
            "arguments": [arguments(entry)],
            "timeout": [str(entry.timeout_minutes * 60)],
        },
        "TimeoutSeconds": DELIVERY_SECONDS,
        "CloudWatchOutputConfig": {
            "CloudWatchOutputEnabled": True,
            "CloudWatchLogGroupName": outputs[Output.MANAGE_LOG_GROUP_NAME],
        },
    }


def schedule_request(entry: Scheduled, outputs: Mapping[str, str]) -> dict[str, Any]:
    """CreateSchedule's (and UpdateSchedule's) request for one entry."""
    role = outputs[Output.SCHEDULER_ROLE_ARN]
    group = outputs[Output.SCHEDULE_GROUP_NAME]
    return {
        "Name": entry.name,
        "GroupName": group,
        "Description": f"cloudsite {group}: {entry.command}"[:512],
        "ScheduleExpression": entry.expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": {
            "Arn": SEND_COMMAND.format(partition=role.split(":")[1]),
            "RoleArn": role,
            "Input": json.dumps(send_command(entry, outputs), sort_keys=True),
            "RetryPolicy": RETRY_POLICY,
        },
    }


def _stack_ready(outputs: Mapping[str, str], cfg: Config) -> bool:
    """Whether the stack has a schedule group; a UsageError when [schedule] needs one and
    the stack has none (it predates them, or was last made without [schedule])."""
    missing = [key for key in NEEDED if not outputs.get(key)]
    if not missing:
        return True
    if cfg.schedule:
        raise UsageError(
            "schedule",
            f"the stack has no {missing[0]} output, and cloudsite.toml has [schedule] entries",
            hint="run `cloudsite up`: it adds the schedule group, then makes the schedules",
        )
    return False


def _existing(scheduler: Any, group: str) -> list[str]:
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
    return sorted(s["Name"] for page in pages for s in page["Schedules"])


def _same(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """The schedule AWS has is the one wanted (its Input compared as JSON, not as text)."""

    def comparable(schedule: Mapping[str, Any]) -> dict[str, Any]:
        picked = {key: schedule.get(key) for key in COMPARED}
        target = dict(picked["Target"] or {})
        target["Input"] = json.loads(target.get("Input") or "null")
        picked["Target"] = {k: target.get(k) for k in ("Arn", "RoleArn", "Input", "RetryPolicy")}
        return picked

    return comparable(found) == comparable(wanted)


def sync(aws: Aws, outputs: Mapping[str, str], cfg: Config) -> Synced:
    """Make the stack's schedule group hold exactly cfg.schedule: create what is new, update
    what changed, delete what is no longer configured."""
    synced = Synced()
    if not _stack_ready(outputs, cfg):
        return synced
    group = outputs[Output.SCHEDULE_GROUP_NAME]
    wanted = {entry.name: schedule_request(entry, outputs) for entry in cfg.schedule}
    scheduler = aws.client("scheduler")
    with calling(f"schedules: the group {group}"):
        existing = _existing(scheduler, group)
    for name, request in wanted.items():
        with calling(f"schedule {name}"):
            if name not in existing:
                scheduler.create_schedule(**request)
                synced.created.append(name)
            elif _same(scheduler.get_schedule(Name=name, GroupName=group), request):
                synced.unchanged.append(name)
            else:
                scheduler.update_schedule(**request)
                synced.updated.append(name)
    for name in existing:
        if name not in wanted:
            with calling(f"schedule {name}"):
                _delete(scheduler, name, group)
            synced.deleted.append(name)
    return synced


def _delete(scheduler: Any, name: str, group: str) -> None:
    import botocore.exceptions

    try:
        scheduler.delete_schedule(Name=name, GroupName=group)
    except botocore.exceptions.ClientError as err:
        if error_code(err) != "ResourceNotFoundException":  # gone already: what we wanted
            raise


def listed(aws: Aws, outputs: Mapping[str, str]) -> list[dict[str, Any]]:
    """The group's schedules, for `status`: name, expression and state (none without a
    group)."""
    group = outputs.get(Output.SCHEDULE_GROUP_NAME, "")
    if not group:
        return []
    scheduler = aws.client("scheduler")
    found = []
    for name in _existing(scheduler, group):
        schedule = scheduler.get_schedule(Name=name, GroupName=group)
        found.append(
            {
                "schedule": name,
                "expression": schedule.get("ScheduleExpression", ""),
                "state": schedule.get("State", ""),
            }
        )
    return found


def schedule_line(item: Mapping[str, Any]) -> str:
    return f"{item['schedule']} {item['expression']} {item['state']}"
