"""Follow one pipeline execution stage by stage, and explain a failure by its root cause:
the tail of the CodeBuild log for a failed build, the failed lifecycle event and its script
output for a failed deploy."""

from dataclasses import dataclass
from typing import Any, Final

from cloudsite.aws.waits import Clock, Deadline
from cloudsite.errors import PipelineError
from cloudsite.ui import Ui

DONE: Final = frozenset({"Succeeded", "Failed", "Stopped", "Cancelled", "Superseded"})
LOG_TAIL_LINES: Final = 30


@dataclass
class Clients:
    codepipeline: Any
    codebuild: Any
    codedeploy: Any
    logs: Any


def stage_names(cp: Any, pipeline: str) -> list[str]:
    return [s["name"] for s in cp.get_pipeline(name=pipeline)["pipeline"]["stages"]]


def actions_of(cp: Any, pipeline: str, execution_id: str) -> list[dict[str, Any]]:
    """This execution's action executions (oldest first)."""
    found: list[dict[str, Any]] = []
    for page in cp.get_paginator("list_action_executions").paginate(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}
    ):
        found.extend(page.get("actionExecutionDetails", []))
    return sorted(found, key=lambda a: a.get("startTime", 0))


def pipeline_follow(
    clients: Clients, pipeline: str, execution_id: str, *, ui: Ui, clock: Clock, timeout: float
) -> str:
    """Wait (bounded) for the execution to finish, showing each stage as it moves.
    Returns the id of the execution that succeeded; raises PipelineError on failure."""
    cp = clients.codepipeline
    stages = stage_names(cp, pipeline)
    deadline = Deadline(
        clock,
        timeout,
        f"pipeline {pipeline}",
        hint="the pipeline keeps running; follow it with `cloudsite status --watch`",
    )
    shown: dict[str, str] = {}
    with ui.waiting(f"pipeline {pipeline}, execution {execution_id}", timeout=timeout) as wait:
        while True:
            status = cp.get_pipeline_execution(
                pipelineName=pipeline, pipelineExecutionId=execution_id
            )["pipelineExecution"]["status"]
            actions = actions_of(cp, pipeline, execution_id)
            for line in _progress(stages, actions, shown):
                wait.event(line)
            wait.status(f"{status}: {_current(stages, actions)}")
            if status == "Superseded":
                newer = _newer(cp, pipeline, execution_id)
                wait.event(f"execution {execution_id} was superseded by {newer}; following it")
                execution_id, shown = newer, {}
                continue
            if status in DONE:
                break
            deadline.check(status)
            clock.sleep(clock.poll)
    if status != "Succeeded":
        raise pipeline_failure(clients, pipeline, execution_id, status=status, actions=actions)
    return execution_id


def _progress(stages: list[str], actions: list[dict[str, Any]], shown: dict[str, str]) -> list[str]:
    """A line per stage whose status changed since the last poll, in stage order."""
    lines = []
    for stage in stages:
        mine = [a for a in actions if a.get("stageName") == stage]
        if not mine:
            continue
        status = _stage_status(mine)
        if shown.get(stage) != status:
            shown[stage] = status
            external = _external_id(mine[-1])
            lines.append(f"{stage}: {status}" + (f" ({external})" if external else ""))
    return lines


def _stage_status(actions: list[dict[str, Any]]) -> str:
    statuses = [a.get("status", "") for a in actions]
    for status in ("Failed", "InProgress", "Abandoned"):
        if status in statuses:
            return status
    return statuses[-1]


def _current(stages: list[str], actions: list[dict[str, Any]]) -> str:
    running = [a["stageName"] for a in actions if a.get("status") == "InProgress"]
    return running[-1] if running else (stages[0] if not actions else actions[-1]["stageName"])


def _external_id(action: dict[str, Any]) -> str:
    return str(action.get("output", {}).get("executionResult", {}).get("externalExecutionId", ""))


def _newer(cp: Any, pipeline: str, execution_id: str) -> str:
    summaries = cp.list_pipeline_executions(pipelineName=pipeline, maxResults=10)
    for summary in summaries["pipelineExecutionSummaries"]:
        if summary["pipelineExecutionId"] != execution_id:
            return str(summary["pipelineExecutionId"])
    return execution_id


def pipeline_failure(
    clients: Clients, pipeline: str, execution_id: str, *, status: str, actions: list[dict]
) -> PipelineError:
    """The root cause of a failed execution, as an error to print."""
    failed = [a for a in actions if a.get("status") == "Failed"]
    if not failed:
        return PipelineError(
            f"pipeline {pipeline}",
            f"execution {execution_id} ended {status}",
            hint="see `cloudsite status` for the stages",
        )
    action = failed[0]
    provider = action.get("input", {}).get("actionTypeId", {}).get("provider", "")
    external = _external_id(action)
    if provider == "CodeBuild" and external:
        return build_failure(clients, action["stageName"], external)
    if provider == "CodeDeploy" and external:
        return deploy_failure(clients, action["stageName"], external)
    result = action.get("output", {}).get("executionResult", {})
    message = result.get("errorDetails", {}).get("message") or result.get(
        "externalExecutionSummary", "no details"
    )
    return PipelineError(
        f"pipeline {pipeline}: {action['stageName']}",
        f"{action.get('actionName', 'action')} failed: {message}",
        hint="fix the cause and run `cloudsite deploy`",
    )


def build_failure(clients: Clients, stage: str, build_id: str) -> PipelineError:
    """A failed CodeBuild build: the phase that failed and the tail of its log."""
    build = clients.codebuild.batch_get_builds(ids=[build_id])["builds"][0]
    failed = [p for p in build.get("phases", []) if p.get("phaseStatus") in {"FAILED", "FAULT"}]
    phase = failed[0] if failed else {}
    reason = "; ".join(c.get("message", "") for c in phase.get("contexts", []) if c.get("message"))
    why = f"{phase.get('phaseType', 'build')} phase failed" + (f": {reason}" if reason else "")
    logs = build.get("logs", {})
    tail = _log_tail(clients.logs, logs.get("groupName", ""), logs.get("streamName", ""))
    details = [f"last {len(tail)} lines of the build log:", *tail] if tail else []
    hint = "fix the build and run `cloudsite deploy`; the whole log: cloudsite logs build"
    error, project_hint = project_problem(tail)
    if error:  # the build's own one-line report (runtime/build.py): the same line as locally
        why, hint = error, f"{project_hint}; then `cloudsite deploy`" if project_hint else hint
    return PipelineError(f"{stage}: build {build_id}", why, details=details, hint=hint)


def project_problem(lines: list[str]) -> tuple[str, str]:
    """The last `error:` line build.py printed, and its `hint:` line, or ('', '')."""
    for at in range(len(lines) - 1, -1, -1):
        if lines[at].startswith("error: "):
            following = lines[at + 1] if at + 1 < len(lines) else ""
            hint = following.removeprefix("hint: ") if following.startswith("hint: ") else ""
            return lines[at].removeprefix("error: "), hint
    return "", ""


def _log_tail(logs: Any, group: str, stream: str) -> list[str]:
    if not group or not stream:
        return []
    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream, limit=LOG_TAIL_LINES, startFromHead=False
    )["events"]
    lines = [line for e in events for line in e["message"].rstrip("\n").splitlines()]
    return lines[-LOG_TAIL_LINES:]


def deploy_failure(clients: Clients, stage: str, deployment_id: str) -> PipelineError:
    """A failed CodeDeploy deployment: the first failed lifecycle event and its script output."""
    cd = clients.codedeploy
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    target_ids = [
        t
        for page in cd.get_paginator("list_deployment_targets").paginate(deploymentId=deployment_id)
        for t in page.get("targetIds", [])
    ]
    for start in range(0, len(target_ids), 25):  # BatchGetDeploymentTargets takes 25 at most
        found = cd.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=target_ids[start : start + 25]
        )["deploymentTargets"]
        for target in found:
            instance = target.get("instanceTarget", {})
            for event in instance.get("lifecycleEvents", []):
                if event.get("status") == "Failed":
                    return _hook_error(stage, deployment_id, instance, event, info)
    error = info.get("errorInformation", {})
    return PipelineError(
        f"{stage}: deployment {deployment_id}",
        f"{error.get('code', info.get('status', 'Failed'))}: {error.get('message', 'no details')}",
        hint=_ROLLBACK_HINT,
    )


_ROLLBACK_HINT: Final = (
    "CodeDeploy rolled back to the previous version; fix it and run `cloudsite deploy` "
    "(the agent's log: cloudsite logs deploy)"
)


def _hook_error(
    stage: str, deployment_id: str, instance: dict, event: dict, info: dict
) -> PipelineError:
    diagnostics = event.get("diagnostics", {})
    script = diagnostics.get("scriptName", "")
    tail = diagnostics.get("logTail", "").rstrip("\n").splitlines()
    details = [f"output of {script or 'the script'}:", *tail] if tail else []
    message = diagnostics.get("message") or diagnostics.get("errorCode", "failed")
    return PipelineError(
        f"{stage}: deployment {deployment_id}",
        f"{event.get('lifecycleEventName')} failed on {instance.get('targetId', '?')}: {message}",
        details=details,
        hint=_ROLLBACK_HINT,
    )
