"""The stack: its state, following an operation's events, and the root cause of a failure.

Change sets live in changeset.py; the recovery from stuck states in recovery.py.
"""

from dataclasses import dataclass, field
from typing import Any, Final

from cloudsite.aws import error_message
from cloudsite.aws.waits import Clock, Deadline
from cloudsite.errors import StackError
from cloudsite.ui import Ui

# Reasons CloudFormation gives resources it gave up on because another one failed first.
_KNOCK_ON: Final = ("Resource creation cancelled", "Resource update cancelled", "cancelled")


@dataclass(frozen=True)
class StackState:
    name: str
    stack_id: str
    status: str
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"


@dataclass(frozen=True)
class Failure:
    """The first resource that failed, which is what the user needs (not the event log)."""

    logical_id: str
    resource_type: str
    status: str
    reason: str

    def describe(self, *, status: bool = False) -> str:
        """`LogicalId (Type): reason`, or with the status `LogicalId (Type) STATUS: reason`."""
        where = f"{self.logical_id} ({self.resource_type})"
        return f"{where} {self.status}: {self.reason}" if status else f"{where}: {self.reason}"


def stack_describe(cfn: Any, name: str) -> StackState | None:
    """The stack's state, or None when there is no such stack (or it was deleted)."""
    import botocore.exceptions

    try:
        found = cfn.describe_stacks(StackName=name)["Stacks"]
    except botocore.exceptions.ClientError as err:
        if "does not exist" in error_message(err):
            return None
        raise
    if not found or found[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return _state(found[0])


def stack_describe_id(cfn: Any, stack_id: str) -> StackState:
    """The state by stack id, which still answers after the stack is deleted."""
    return _state(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])


def stack_resources(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    """The stack's resources (logical id, type, physical id, status)."""
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
    return [r for page in pages for r in page["StackResourceSummaries"]]


def _state(raw: dict[str, Any]) -> StackState:
    return StackState(
        name=raw["StackName"],
        stack_id=raw["StackId"],
        status=raw["StackStatus"],
        reason=raw.get("StackStatusReason", ""),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in raw.get("Outputs", [])},
        parameters={
            p["ParameterKey"]: p.get("ParameterValue", "") for p in raw.get("Parameters", [])
        },
    )


def events_latest(cfn: Any, stack_id: str) -> str:
    """The id of the newest event: an operation's events are the ones after it."""
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return str(events[0]["EventId"]) if events else ""


def events_since(cfn: Any, stack_id: str, *, seen: set[str]) -> list[dict[str, Any]]:
    """Events not yet in `seen`, oldest first. The API pages newest first, so reading stops at
    the first event already seen (seed `seen` with events_latest() before an operation)."""
    fresh: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        for event in page["StackEvents"]:
            if event["EventId"] in seen:
                return list(reversed(fresh))
            fresh.append(event)
    return list(reversed(fresh))


def event_line(event: dict[str, Any]) -> str:
    """One event as a line: time, status, type, logical id, and the reason when it failed."""
    line = (
        f"{event['Timestamp']:%H:%M:%S} {event['ResourceStatus']:<28} "
        f"{event.get('ResourceType', ''):<44} {event.get('LogicalResourceId', '')}"
    )
    if "FAILED" in event["ResourceStatus"] and event.get("ResourceStatusReason"):
        line += f": {event['ResourceStatusReason']}"
    return line.rstrip()


def first_failure(events: list[dict[str, Any]], *, stack_name: str) -> Failure | None:
    """The earliest failed resource among `events` (oldest first), skipping the knock-on
    cancellations and the stack's own summary event when a resource explains more."""
    failed = [e for e in events if e["ResourceStatus"].endswith("FAILED")]
    own = [e for e in failed if e.get("LogicalResourceId") == stack_name]
    resources = [e for e in failed if e.get("LogicalResourceId") != stack_name]
    real = [e for e in resources if not _knock_on(e.get("ResourceStatusReason", ""))]
    candidates = real or resources or own
    if not candidates:
        return None
    chosen = candidates[0]
    return Failure(
        logical_id=chosen.get("LogicalResourceId", ""),
        resource_type=chosen.get("ResourceType", ""),
        status=chosen["ResourceStatus"],
        reason=chosen.get("ResourceStatusReason", "") or "no reason given",
    )


def _knock_on(reason: str) -> bool:
    return any(marker in reason for marker in _KNOCK_ON)


@dataclass
class Follow:
    """Stream a stack operation's events until it leaves *_IN_PROGRESS (bounded)."""

    cfn: Any
    ui: Ui
    clock: Clock
    timeout: float

    def run(self, stack_id: str, *, after: str, what: str) -> tuple[StackState, list[dict]]:
        """Returns the final state and every event after event id `after`, oldest first."""
        seen: set[str] = {after} if after else set()
        history: list[dict[str, Any]] = []
        deadline = Deadline(
            self.clock,
            self.timeout,
            what,
            hint="the operation continues in CloudFormation; `cloudsite status` shows it, "
            "and rerunning the command waits for it again",
        )
        with self.ui.waiting(what, timeout=self.timeout) as wait:
            while True:
                for event in events_since(self.cfn, stack_id, seen=seen):
                    seen.add(event["EventId"])
                    history.append(event)
                    wait.event(event_line(event))
                state = stack_describe_id(self.cfn, stack_id)
                wait.status(state.status)
                if not state.busy:
                    return state, history
                deadline.check(state.status)
                self.clock.sleep(self.clock.poll)


def stack_error(state: StackState, events: list[dict[str, Any]], *, hint: str) -> StackError:
    """The error for a failed operation: its first failed resource, and why."""
    failure = first_failure(events, stack_name=state.name)
    if failure is None:
        why = state.reason or "no resource reported a failure"
        return StackError(f"stack {state.name}", f"{state.status}: {why}", hint=hint)
    return StackError(
        f"stack {state.name}",
        failure.describe(status=True),
        hint=hint,
        details=[f"the stack is now {state.status}"],
    )


def stack_delete(
    cfn: Any, state: StackState, *, follow: Follow, token: str, retain: tuple[str, ...] = ()
) -> tuple[StackState, list[dict]]:
    """Delete the stack and stream its events; returns the final state (DELETE_COMPLETE or
    DELETE_FAILED) and the events."""
    after = events_latest(cfn, state.stack_id)
    args: dict[str, Any] = {"StackName": state.stack_id, "ClientRequestToken": token}
    if retain:
        args["RetainResources"] = list(retain)
    cfn.delete_stack(**args)
    return follow.run(state.stack_id, after=after, what=f"deleting stack {state.name}")
