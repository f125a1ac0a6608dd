"""`cloudsite manage ARGS...` on AWS: `python manage.py ARGS...` once, on one healthy instance,
through the stack's own documents (docs/operating.md). The web containers are not touched.

Without a terminal (`run`):
1. check the arguments, the stack's outputs and `timeout`, and pick one instance the target
   group reports healthy and the Auto Scaling group has InService (a target by tag would run
   on every instance): any UsageError comes before anything runs remotely;
2. createsuperuser's values, when there are any, become a SecureString parameter
   /cloudsite/<stack>/oneoff/<run id> that lives for this run only (deleted in a `finally`,
   and by `cloudsite down` if a crash left it): never an argument, a Run Command parameter
   (kept 30 days, and in CloudTrail) or a log line;
3. SendCommand with the stack's ManageDocument to that one instance id, its output to the
   stack's ManageLogGroup;
4. stream the output from CloudWatch Logs as it arrives (GetCommandInvocation's own copy is
   cut at 24,000 characters) until the invocation ends, then what is left;
5. return the command's exit status (see `exit_status`). Ctrl-C cancels the command on the
   instance; past `timeout` plus a margin, so does the wait, with an OperationError.

With a terminal (`session`): a Session Manager session with ManageSessionDocument, run by the
session-manager-plugin as the AWS CLI runs it; the exit status is the one the instance's
manage.sh recorded (the plugin's own says nothing about the command's).
"""

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final, TextIO

from cloudsite import runs
from cloudsite.aws import Aws, aws_error, calling, error_code
from cloudsite.aws.stack import StackState, stack_describe
from cloudsite.aws.waits import Clock
from cloudsite.errors import OperationError, UsageError, WaitTimeout
from cloudsite.outputs import STACK_TAG, Output

VERB: Final = "manage"
STEP: Final = "manage"  # ManageDocument's one step: Run Command names its output streams so
# <command id>/<instance id>/<step>/stdout and .../stderr in the CloudWatch Logs group.
PLUGIN: Final = "session-manager-plugin"
RESPONSE_ENV: Final = "AWS_SSM_START_SESSION_RESPONSE"  # how the AWS CLI hands the plugin the
# session's token: in the environment, named in argv, so `ps` never shows it
DELIVERY_SECONDS: Final = 300  # SendCommand's TimeoutSeconds: the instance must start it by then
STEP_EXTRA: Final = 60  # executionTimeout: a minute more than the script's own timeout
MAX_TIMEOUT: Final = 172_800 - STEP_EXTRA  # aws:runShellScript runs 48 hours at most
MARGIN: Final = 60  # for the last output to reach CloudWatch Logs
RECORD_WAIT: Final = 30.0  # seconds for a session's run record to arrive
READY: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
DONE: Final = ("Success", "Failed", "TimedOut", "Cancelled")  # GetCommandInvocation's ends
INTERRUPTED: Final = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
INSTALL: Final = (
    "Debian/Ubuntu: curl -o session-manager-plugin.deb https://s3.amazonaws.com/session-manager-"
    "downloads/plugin/latest/ubuntu_64bit/session-manager-plugin.deb && sudo dpkg -i "
    "session-manager-plugin.deb",
    "macOS: curl -o sessionmanager-bundle.zip https://s3.amazonaws.com/session-manager-"
    "downloads/plugin/latest/mac/sessionmanager-bundle.zip && unzip sessionmanager-bundle.zip "
    "&& sudo ./sessionmanager-bundle/install -i /usr/local/sessionmanagerplugin -b "
    "/usr/local/bin/session-manager-plugin",
    "Amazon Linux/RHEL: sudo dnf install -y https://s3.amazonaws.com/session-manager-downloads/"
    "plugin/latest/linux_64bit/session-manager-plugin.rpm",
)
INSTALL_DOCS: Final = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)


def site_ready(aws: Aws, stack: str) -> StackState:
    """The deployed stack, with the outputs `manage` needs; a UsageError (exit 2) otherwise."""
    with calling(f"stack {stack}"):
        state = stack_describe(aws.client("cloudformation"), stack)
    if state is None or state.status not in READY:
        shown = state.status if state else "not deployed"
        raise UsageError(
            f"stack {stack}", f"is {shown}", hint="run `cloudsite up` first: it deploys the site"
        )
    needed = (Output.MANAGE_DOCUMENT_NAME, Output.MANAGE_SESSION_DOCUMENT_NAME)
    missing = [key for key in (*needed, Output.MANAGE_LOG_GROUP_NAME) if not state.outputs.get(key)]
    if missing:
        raise UsageError(
            f"stack {stack}",
            f"it has no {missing[0]} output",
            hint="the stack predates `cloudsite manage`; run `cloudsite up` to update it",
        )
    return state


def pick_instance(aws: Aws, state: StackState) -> str:
    """The first (by id) instance the target group reports healthy that is InService."""
    with calling("manage: finding a healthy instance"):
        health = aws.client("elbv2").describe_target_health(
            TargetGroupArn=state.outputs.get(Output.TARGET_GROUP_ARN, "")
        )
        groups = aws.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[state.outputs.get(Output.AUTO_SCALING_GROUP_NAME, "")]
        )["AutoScalingGroups"]
    healthy = {
        t["Target"]["Id"]
        for t in health["TargetHealthDescriptions"]
        if t["TargetHealth"].get("State") == "healthy"
    }
    in_service = {
        i["InstanceId"]
        for g in groups
        for i in g.get("Instances", [])
        if i.get("LifecycleState") == "InService"
    }
    found = sorted(healthy & in_service)
    if not found:
        raise UsageError(
            VERB,
            f"no healthy instance in {state.name}: none is both healthy and InService",
            hint="`cloudsite status` shows the targets; `cloudsite deploy` brings them back",
        )
    return found[0]


def new_run_id(clock: Clock) -> str:
    """The run's id (runs.new_run_id) at the clock's wall time."""
    return runs.new_run_id(clock.wall())


def oneoff_name(stack: str, run_id: str) -> str:
    return f"/cloudsite/{stack}/oneoff/{run_id}"


def run(
    aws: Aws,
    state: StackState,
    args: Sequence[str],
    *,
    secrets: Mapping[str, str],
    timeout: int,
    out: TextIO,
    err: TextIO,
    clock: Clock,
) -> int:
    """Steps 1-5 of the module docstring; returns the command's exit status."""
    args = runs.checked(args, verb=VERB)
    parameters = _parameters(args, timeout=timeout)
    instance = pick_instance(aws, state)
    run_id = new_run_id(clock)
    ssm = aws.client("ssm")
    with _oneoff(aws, state.name, run_id, secrets) as secret:
        parameters["runId"] = [run_id]
        if secret:
            parameters["secretParameter"] = [secret]
        with calling("manage: SendCommand"):
            command = ssm.send_command(
                InstanceIds=[instance],
                DocumentName=state.outputs[Output.MANAGE_DOCUMENT_NAME],
                Parameters=parameters,
                Comment=f"cloudsite manage {run_id}",
                TimeoutSeconds=DELIVERY_SECONDS,
                CloudWatchOutputConfig={
                    "CloudWatchLogGroupName": state.outputs[Output.MANAGE_LOG_GROUP_NAME],
                    "CloudWatchOutputEnabled": True,
                },
            )["Command"]["CommandId"]
        err.write(f"==> {run_id}: manage.py {runs.command_line(args)} on {instance}\n")
        try:
            return _follow(
                aws,
                state,
                command=command,
                instance=instance,
                bound=DELIVERY_SECONDS + timeout + STEP_EXTRA + MARGIN,
                out=out,
                err=err,
                clock=clock,
            )
        except (KeyboardInterrupt, WaitTimeout):
            _cancel(ssm, command, instance)
            raise


def _parameters(args: Sequence[str], *, timeout: int) -> dict[str, list[str]]:
    """The documents' parameters but runId and secretParameter: never a secret (Run Command
    keeps them 30 days, CloudTrail too)."""
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise UsageError(
            "--timeout", f"{timeout} is not between 1 and {MAX_TIMEOUT} seconds", hint="e.g. 600"
        )
    encoded = runs.encode(args)
    if len(encoded) > 8192:  # the documents' maxChars
        raise UsageError(VERB, "the command is too long", hint="pass fewer or shorter arguments")
    return {
        "arguments": [encoded],
        "timeout": [str(timeout)],
        "executionTimeout": [str(timeout + STEP_EXTRA)],
    }


@contextmanager
def _oneoff(aws: Aws, stack: str, run_id: str, secrets: Mapping[str, str]) -> Iterator[str]:
    """The run's SecureString parameter (its name; "" without secrets), deleted at the end
    however the run ends."""
    if not secrets:
        yield ""
        return
    name = oneoff_name(stack, run_id)
    ssm = aws.client("ssm")
    with calling(f"manage: PutParameter {name}"):
        ssm.put_parameter(
            Name=name,
            Value=json.dumps(dict(secrets)),
            Type="SecureString",
            Overwrite=False,
            Description="cloudsite manage: this run's values; deleted when it ends",
            Tags=[{"Key": STACK_TAG, "Value": stack}],
        )
    try:
        yield name
    finally:
        oneoff_delete(ssm, [name])


def oneoff_delete(ssm: Any, names: Sequence[str]) -> list[str]:
    """Delete these one-off parameters (10 a call, the API's most); returns those deleted."""
    deleted: list[str] = []
    for start in range(0, len(names), 10):
        answer = ssm.delete_parameters(Names=list(names[start : start + 10]))
        deleted += answer.get("DeletedParameters", [])
    return deleted


def oneoff_left(ssm: Any, stack: str) -> list[str]:
    """The one-off parameters a crashed run left under /cloudsite/<stack>/oneoff/."""
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=f"/cloudsite/{stack}/oneoff", Recursive=True
    )
    return sorted(p["Name"] for page in pages for p in page["Parameters"])


class _Stream:
    """One output stream of the command in CloudWatch Logs, read forward with its token."""

    def __init__(self, name: str, sink: TextIO) -> None:
        self.name = name
        self.sink = sink
        self.token: str | None = None

    def pull(self, logs: Any, group: str) -> int:
        """Write every event that arrived since the last pull; returns how many."""
        import botocore.exceptions

        count = 0
        while True:
            request: dict[str, Any] = {
                "logGroupName": group,
                "logStreamName": self.name,
                "startFromHead": True,
            }
            if self.token:
                request["nextToken"] = self.token
            try:
                page = logs.get_log_events(**request)
            except botocore.exceptions.ClientError as err:
                if error_code(err) == "ResourceNotFoundException":
                    return count  # the agent makes the stream with its first output
                raise
            for event in page["events"]:
                message = event["message"]
                self.sink.write(message if message.endswith("\n") else message + "\n")
                count += 1
            self.sink.flush()
            token, self.token = self.token, page.get("nextForwardToken")
            if not page["events"] or self.token == token:
                return count


def _follow(
    aws: Aws,
    state: StackState,
    *,
    command: str,
    instance: str,
    bound: float,
    out: TextIO,
    err: TextIO,
    clock: Clock,
) -> int:
    """Step 4: stream until the invocation ends (bounded), then drain; step 5's status."""
    logs, ssm = aws.client("logs"), aws.client("ssm")
    group = state.outputs[Output.MANAGE_LOG_GROUP_NAME]
    prefix = f"{command}/{instance}/{STEP}"
    streams = [_Stream(f"{prefix}/stdout", out), _Stream(f"{prefix}/stderr", err)]
    started = clock.now()
    while True:
        with calling("manage: reading the output"):
            for stream in streams:
                stream.pull(logs, group)
        invocation = _invocation(ssm, command, instance)
        if invocation.get("Status") in DONE:
            with calling("manage: reading the output"):
                while sum(stream.pull(logs, group) for stream in streams):
                    pass
            return exit_status(invocation, err=err)
        if clock.now() - started >= bound:
            raise WaitTimeout(
                VERB,
                f"no end after {bound:.0f} s (still {invocation.get('Status')}); the command "
                f"{command} was cancelled on {instance}",
                hint="a longer --timeout gives it more time",
            )
        clock.sleep(clock.poll)


def _invocation(ssm: Any, command: str, instance: str) -> dict[str, Any]:
    import botocore.exceptions

    try:
        return dict(ssm.get_command_invocation(CommandId=command, InstanceId=instance))
    except botocore.exceptions.ClientError as err:
        if error_code(err) == "InvocationDoesNotExist":  # not registered yet, just after send
            return {"Status": "Pending"}
        raise aws_error("manage: GetCommandInvocation", err) from None


def exit_status(invocation: Mapping[str, Any], *, err: TextIO | None = None) -> int:
    """The command's own exit status for an ended invocation:
    Success and Failed -> its ResponseCode (manage.sh's: the command's, 124 timed out, 125 not
    run); TimedOut -> 124 (ExecutionTimedOut) or 125 (DeliveryTimedOut: it never started);
    Cancelled -> 130; Failed without a code (-1: Undeliverable, Terminated) -> 125."""
    status = invocation.get("Status")
    code = int(invocation.get("ResponseCode", -1))
    details = invocation.get("StatusDetails", "")
    if status in ("Success", "Failed") and code >= 0:
        return code
    if err is not None:
        err.write(f"==> Run Command: {status} ({details})\n")
    if status == "Cancelled":
        return INTERRUPTED
    if status == "TimedOut" and details != "DeliveryTimedOut":
        return runs.TIMED_OUT
    return runs.NOT_RUN


def _cancel(ssm: Any, command: str, instance: str) -> None:
    import botocore.exceptions

    # It may have ended in between: then nothing is left to stop.
    with suppress(botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        ssm.cancel_command(CommandId=command, InstanceIds=[instance])


def session(
    aws: Aws,
    state: StackState,
    args: Sequence[str],
    *,
    secrets: Mapping[str, str],
    timeout: int,
    profile: str,
    clock: Clock,
) -> int:
    """The command with a terminal: the plugin is checked first, then steps 1-2 of `run`, a
    session with ManageSessionDocument run by the plugin with the terminal inherited; returns
    the exit status manage.sh recorded for the run."""
    plugin = shutil.which(PLUGIN)
    if plugin is None:
        raise UsageError(
            VERB,
            f"a terminal on the instance needs the {PLUGIN}, which is not on PATH",
            hint=f"install it ({INSTALL_DOCS}), or run without a terminal: --no-interactive",
            details=INSTALL,
        )
    args = runs.checked(args, verb=VERB)
    parameters = _parameters(args, timeout=timeout)
    instance = pick_instance(aws, state)
    run_id = new_run_id(clock)
    ssm = aws.client("ssm")
    with _oneoff(aws, state.name, run_id, secrets) as secret:
        parameters["runId"] = [run_id]
        if secret:
            parameters["secretParameter"] = [secret]
        request = {
            "Target": instance,
            "DocumentName": state.outputs[Output.MANAGE_SESSION_DOCUMENT_NAME],
            "Parameters": parameters,
            "Reason": f"cloudsite manage {run_id}",
        }
        with calling("manage: StartSession"):
            response = ssm.start_session(**request)
        try:
            _plugin_run(plugin, response, request=request, ssm=ssm, profile=profile)
        finally:
            _terminate(ssm, response["SessionId"])
        return _recorded_status(aws, state, instance=instance, run_id=run_id, clock=clock)


def plugin_argv(
    plugin: str, *, region: str, profile: str, request: Mapping[str, Any], endpoint: str
) -> list[str]:
    """The plugin's command line as the AWS CLI (v2) builds it for `aws ssm start-session`:
    the session's response (with its token) travels in RESPONSE_ENV, named here."""
    return [plugin, RESPONSE_ENV, region, "StartSession", profile, json.dumps(request), endpoint]


def _plugin_run(
    plugin: str, response: Mapping[str, Any], *, request: Mapping[str, Any], ssm: Any, profile: str
) -> int:
    """Run the plugin on this terminal. Ctrl-C belongs to the remote command while it runs:
    this process ignores it, as the AWS CLI does."""
    session = {k: response[k] for k in ("SessionId", "TokenValue", "StreamUrl")}
    env = {**os.environ, RESPONSE_ENV: json.dumps(session)}
    argv = plugin_argv(
        plugin,
        region=ssm.meta.region_name,
        profile=profile,
        request=request,
        endpoint=ssm.meta.endpoint_url,
    )
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to set
        previous = None
    try:
        return subprocess.run(argv, env=env, check=False).returncode  # noqa: S603 - fixed argv
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _terminate(ssm: Any, session_id: str) -> None:
    import botocore.exceptions

    # The plugin usually ended it already; this closes one it left open.
    with suppress(botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        ssm.terminate_session(SessionId=session_id)


def _recorded_status(
    aws: Aws, state: StackState, *, instance: str, run_id: str, clock: Clock
) -> int:
    """The exit status in the run's record (stream runs/<instance>), waited for a little."""
    group = state.outputs[Output.MANAGE_LOG_GROUP_NAME]
    started = clock.now()
    while True:
        with calling("manage: reading the run's record"):
            found = [r for r in _records(aws, group, [f"runs/{instance}"]) if r["run"] == run_id]
        if found:
            return int(found[0].get("exit", runs.NOT_RUN))
        if clock.now() - started >= RECORD_WAIT:
            raise OperationError(
                VERB,
                f"the session ended, but {instance} recorded no end of run {run_id}: its exit "
                "status is unknown",
                hint=f"`cloudsite logs manage` shows what the instance wrote ({group})",
            )
        clock.sleep(clock.poll)


def history(aws: Aws, state: StackState, *, limit: int = 10) -> list[dict[str, Any]]:
    """The one-off runs' records (when, where, what, exit status), newest first; none for a
    stack without ManageLogGroup."""
    group = state.outputs.get(Output.MANAGE_LOG_GROUP_NAME, "")
    if not group:
        return []
    pages = (
        aws.client("logs")
        .get_paginator("describe_log_streams")
        .paginate(logGroupName=group, logStreamNamePrefix="runs/")
    )
    names = [s["logStreamName"] for page in pages for s in page["logStreams"]]
    return _records(aws, group, names)[:limit]


def _records(aws: Aws, group: str, streams: Sequence[str]) -> list[dict[str, Any]]:
    import botocore.exceptions

    logs = aws.client("logs")
    lines: list[str] = []
    for start in range(0, len(streams), 100):  # FilterLogEvents takes 100 streams at most
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=group, logStreamNames=list(streams[start : start + 100])
            )
            lines += [e["message"] for page in pages for e in page["events"]]
        except botocore.exceptions.ClientError as err:
            if error_code(err) != "ResourceNotFoundException":  # no run on it yet
                raise
    return runs.records(lines)
