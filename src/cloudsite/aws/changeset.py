"""Deploy through a change set: create it, summarise it, then execute or discard it.

"No changes" is a success. Discarding removes the change set, and the empty stack a CREATE
change set leaves behind (REVIEW_IN_PROGRESS), so a cancelled `up` leaves nothing.
"""

import contextlib
from dataclasses import dataclass
from typing import Any, Final

from cloudsite.aws.stack import Follow, StackState, events_latest, stack_error
from cloudsite.aws.waits import Deadline
from cloudsite.errors import StackError

CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_NO_CHANGES: Final = ("didn't contain changes", "No updates are to be performed")


AUTO_SCALING_GROUP: Final = "AWS::AutoScaling::AutoScalingGroup"
LAUNCH_TEMPLATE: Final = "AWS::EC2::LaunchTemplate"
# The group properties whose change makes CloudFormation replace the group's instances under
# the template's UpdatePolicy (AutoScalingRollingUpdate, one instance at a time).
ROLLING_PROPERTIES: Final = frozenset(
    {"LaunchTemplate", "LaunchConfigurationName", "VPCZoneIdentifier", "PlacementGroup"}
    | {"MixedInstancesPolicy"}
)
ROLLING_UPDATE: Final = "instances will be replaced one at a time (rolling update)"


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional | "" (only for Modify)
    properties: tuple[str, ...] = ()  # what a Modify changes (its Details' target names)

    @property
    def verb(self) -> str:
        """What happens, in words: add, change, replace, maybe replace, remove."""
        if self.action == "Modify":
            return {"True": "replace", "Conditional": "maybe replace"}.get(
                self.replacement, "change"
            )
        return {"Add": "add", "Remove": "remove"}.get(self.action, self.action.lower())


@dataclass(frozen=True)
class ChangeSet:
    arn: str
    stack_id: str
    kind: str  # CREATE | UPDATE
    changes: tuple[Change, ...]
    empty: bool = False


def change_set_create(
    cfn: Any,
    *,
    stack: str,
    kind: str,
    name: str,
    template: dict[str, str],
    parameters: list[dict[str, str]],
    tags: list[dict[str, str]],
    follow: Follow,
) -> ChangeSet:
    """Create a change set and wait (bounded) until CloudFormation has worked it out."""
    created = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        Parameters=parameters,
        Capabilities=CAPABILITIES,
        Tags=tags,
        Description="cloudsite",
        **template,
    )
    arn, stack_id = created["Id"], created["StackId"]
    deadline = Deadline(
        follow.clock, min(follow.timeout, 600), "change set", hint="rerun the command"
    )
    with follow.ui.waiting(f"working out the changes to {stack}", timeout=deadline.seconds) as w:
        while True:
            described = cfn.describe_change_set(ChangeSetName=arn)
            status = described["Status"]
            nothing = any(m in described.get("StatusReason", "") for m in _NO_CHANGES)
            w.status("no changes" if nothing else status)
            if status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"):
                break
            deadline.check(status)
            follow.clock.sleep(min(follow.clock.poll, 2))
    if status != "CREATE_COMPLETE":
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in _NO_CHANGES):
            return ChangeSet(arn=arn, stack_id=stack_id, kind=kind, changes=(), empty=True)
        raise StackError(
            f"change set for {stack}", f"{status}: {reason}", hint="fix the cause and rerun"
        )
    return ChangeSet(arn=arn, stack_id=stack_id, kind=kind, changes=_changes(cfn, described))


def _changes(cfn: Any, described: dict[str, Any]) -> tuple[Change, ...]:
    found = list(described.get("Changes", []))
    token = described.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=described["ChangeSetId"], NextToken=token)
        found.extend(page.get("Changes", []))
        token = page.get("NextToken")
    result = []
    for item in found:
        rc = item.get("ResourceChange", {})
        targets = (d.get("Target", {}) for d in rc.get("Details", []))
        names = {t["Name"] for t in targets if t.get("Attribute") == "Properties" and "Name" in t}
        result.append(
            Change(
                action=rc.get("Action", ""),
                logical_id=rc.get("LogicalResourceId", ""),
                resource_type=rc.get("ResourceType", ""),
                replacement=rc.get("Replacement", "") if rc.get("Action") == "Modify" else "",
                properties=tuple(sorted(names)),
            )
        )
    return tuple(sorted(result, key=lambda c: (_ORDER.get(c.verb, 9), c.logical_id)))


_ORDER: Final = {"add": 0, "replace": 1, "maybe replace": 2, "change": 3, "remove": 4}


def change_summary(changes: tuple[Change, ...]) -> list[str]:
    """Lines for the user: one per resource, the counts, and what happens to the instances."""
    lines = [f"  {c.verb:<14} {c.logical_id:<36} {c.resource_type}" for c in changes]
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.verb] = counts.get(change.verb, 0) + 1
    total = ", ".join(f"{n} to {verb}" for verb, n in counts.items())
    lines.append(f"  {total or 'no changes'}")
    replacement = instance_replacement(changes)
    if replacement:
        lines.append(f"  {replacement.summary}")
    return lines


@dataclass(frozen=True)
class Replacement:
    """What a change set does to the running instances, and which changes cause it."""

    how: str  # "rolling update" | "new group"
    because: tuple[str, ...]

    @property
    def summary(self) -> str:
        because = ", ".join(self.because)
        if self.how == "new group":
            return f"the Auto Scaling group is replaced: a new fleet starts first ({because})"
        return f"{ROLLING_UPDATE}: {because} changes"

    def as_dict(self) -> dict[str, Any]:
        return {"how": self.how, "because": list(self.because), "summary": self.summary}


def instance_replacement(changes: tuple[Change, ...]) -> Replacement | None:
    """How the running instances are replaced, and why, or None when they stay.

    A changed launch template gets a new version, which the group refers to, so the group's
    instances roll; so do the group properties in ROLLING_PROPERTIES. A group that is itself
    replaced brings a new fleet up before the old one goes.
    """
    groups = [c for c in changes if c.resource_type == AUTO_SCALING_GROUP and c.action == "Modify"]
    if any(c.replacement == "True" for c in groups):
        return Replacement("new group", tuple(c.logical_id for c in groups))
    because = {
        c.logical_id for c in changes if c.resource_type == LAUNCH_TEMPLATE and c.action == "Modify"
    }
    for group in groups:
        because |= {f"{group.logical_id}.{p}" for p in group.properties if p in ROLLING_PROPERTIES}
    return Replacement("rolling update", tuple(sorted(because))) if because else None


def change_set_discard(cfn: Any, change_set: ChangeSet) -> None:
    """Delete the change set, and the empty stack a CREATE change set made."""
    import botocore.exceptions

    # Already gone is fine (executed, or deleted with its stack).
    with contextlib.suppress(botocore.exceptions.ClientError):
        cfn.delete_change_set(ChangeSetName=change_set.arn)
    if change_set.kind == "CREATE":
        described = cfn.describe_stacks(StackName=change_set.stack_id)["Stacks"][0]
        if described["StackStatus"] == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=change_set.stack_id)


def change_set_execute(
    cfn: Any, change_set: ChangeSet, *, stack: str, token: str, follow: Follow
) -> StackState:
    """Execute and stream the events; a failed operation raises with its root cause."""
    after = events_latest(cfn, change_set.stack_id)
    cfn.execute_change_set(ChangeSetName=change_set.arn, ClientRequestToken=token)
    verb = "creating" if change_set.kind == "CREATE" else "updating"
    state, events = follow.run(change_set.stack_id, after=after, what=f"{verb} stack {stack}")
    if state.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return state
    hint = (
        "`cloudsite up` deletes the rolled-back stack and creates it again once you confirm"
        if change_set.kind == "CREATE"
        else "the stack rolled back to its previous version; fix the cause and rerun"
    )
    raise stack_error(state, events, hint=hint)
