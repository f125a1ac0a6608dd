"""`cloudsite status`: the stack, the pipeline's last execution per stage, target health,
alarm states, the one-off commands `cloudsite manage` ran (when, where, how they ended) and the
URL. Each section is read on its own: one that cannot be read says why
instead of failing the whole report."""

from collections.abc import Callable
from typing import Any

from cloudsite import runs
from cloudsite.aws import Aws, error_code, error_message, schedules
from cloudsite.aws.manage import history
from cloudsite.aws.stack import stack_describe, stack_resources
from cloudsite.outputs import Output


def status_gather(aws: Aws, stack: str) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the --json output)."""
    cfn = aws.client("cloudformation")
    state = stack_describe(cfn, stack)
    if state is None:
        return {"stack": stack, "status": "NOT_FOUND", "url": None}
    outputs = state.outputs
    report: dict[str, Any] = {
        "stack": stack,
        "status": state.status,
        "reason": state.reason,
        "url": outputs.get(Output.SITE_URL),
        "outputs": dict(sorted(outputs.items())),
    }
    report["pipeline"] = _section(lambda: _pipeline(aws, outputs.get(Output.PIPELINE_NAME, "")))
    report["targets"] = _section(lambda: _targets(aws, outputs.get(Output.TARGET_GROUP_ARN, "")))
    report["alarms"] = _section(lambda: _alarms(aws, cfn, state.stack_id))
    report["runs"] = _section(lambda: history(aws, state))
    if outputs.get(Output.SCHEDULE_GROUP_NAME):  # [schedule] (aws/schedules.py)
        report["schedules"] = _section(lambda: schedules.listed(aws, outputs))
    return report


def _section(read: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    import botocore.exceptions

    try:
        return {"items": read()}
    except botocore.exceptions.ClientError as err:
        return {"items": [], "unavailable": _short(err)}
    except botocore.exceptions.BotoCoreError as err:
        return {"items": [], "unavailable": str(err)}


def _short(err: Exception) -> str:
    """One line for an error, even when an endpoint answered with an HTML page."""
    message = error_message(err)
    if "<html" in message.lower():
        operation = getattr(err, "operation_name", "the call")
        message = f"the endpoint answered {operation} with an HTML error page"
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{error_code(err)}: {first[:160]}"


def _pipeline(aws: Aws, pipeline: str) -> list[dict[str, Any]]:
    if not pipeline:
        return []
    state = aws.client("codepipeline").get_pipeline_state(name=pipeline)
    stages = []
    for stage in state.get("stageStates", []):
        latest = stage.get("latestExecution", {})
        actions = stage.get("actionStates", [])
        changed = [a.get("latestExecution", {}).get("lastStatusChange") for a in actions]
        stages.append(
            {
                "stage": stage["stageName"],
                "status": latest.get("status", "never run"),
                "execution": latest.get("pipelineExecutionId", ""),
                "changed": max((c for c in changed if c), default=None),
            }
        )
    return stages


def _targets(aws: Aws, target_group: str) -> list[dict[str, Any]]:
    if not target_group:
        return []
    found = aws.client("elbv2").describe_target_health(TargetGroupArn=target_group)
    return [
        {
            "target": t["Target"]["Id"],
            "port": t["Target"].get("Port"),
            "state": t["TargetHealth"].get("State", ""),
            "reason": t["TargetHealth"].get("Description", ""),
        }
        for t in found["TargetHealthDescriptions"]
    ]


def _alarms(aws: Aws, cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    names = [
        r["PhysicalResourceId"]
        for r in stack_resources(cfn, stack_id)
        if r["ResourceType"] == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")
    ]
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):  # DescribeAlarms takes 100 names at most
        page = aws.client("cloudwatch").describe_alarms(AlarmNames=names[start : start + 100])
        found.extend(
            {"alarm": a["AlarmName"], "state": a["StateValue"], "reason": a.get("StateReason", "")}
            for a in page["MetricAlarms"]
        )
    return sorted(found, key=lambda a: a["alarm"])


def status_lines(report: dict[str, Any]) -> list[str]:
    """The human form of the report."""
    lines = [f"stack     {report['stack']}  {report['status']}"]
    if report["status"] == "NOT_FOUND":
        return [*lines, "          run `cloudsite up` to create it"]
    lines.append(f"url       {report.get('url') or '-'}")
    lines += _section_lines("pipeline", report["pipeline"], _stage_line)
    lines += _section_lines("targets", report["targets"], _target_line)
    lines += _section_lines("alarms", report["alarms"], _alarm_line)
    lines += _section_lines("runs", report.get("runs", {"items": []}), runs.record_line)
    if "schedules" in report:
        lines += _section_lines("schedules", report["schedules"], schedules.schedule_line)
    lines.append("outputs")
    lines += [f"  {key:<30} {value}" for key, value in report["outputs"].items()]
    return lines


def _section_lines(title: str, section: dict[str, Any], line: Callable[[dict], str]) -> list[str]:
    if section.get("unavailable"):
        return [f"{title:<9} unavailable ({section['unavailable']})"]
    items = section["items"]
    if not items:
        return [f"{title:<9} none"]
    return [f"{title if i == 0 else '':<9} {line(item)}" for i, item in enumerate(items)]


def _stage_line(stage: dict[str, Any]) -> str:
    execution = f" ({stage['execution']})" if stage["execution"] else ""
    return f"{stage['stage']}: {stage['status']}{execution}"


def _target_line(target: dict[str, Any]) -> str:
    reason = f" - {target['reason']}" if target["reason"] else ""
    return f"{target['target']}:{target['port']} {target['state']}{reason}"


def _alarm_line(alarm: dict[str, Any]) -> str:
    return f"{alarm['alarm']} {alarm['state']}"
