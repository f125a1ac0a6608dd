"""Bring a stack to a state a change set can act on, whatever an earlier run left behind.

no stack, REVIEW_IN_PROGRESS      create
*_IN_PROGRESS                     wait for it (bounded), or with --no-wait say so and stop
ROLLBACK_COMPLETE / _FAILED,      the first create failed: show why, then (after you
CREATE_FAILED                     confirm) delete it and create it again
UPDATE_ROLLBACK_FAILED            continue the rollback, then update
DELETE_FAILED                     stop: `cloudsite down` finishes the delete
anything else (*_COMPLETE)        update
"""

from dataclasses import dataclass
from typing import Any, Final

from cloudsite.aws.stack import (
    Follow,
    StackState,
    events_latest,
    events_since,
    first_failure,
    stack_delete,
    stack_describe,
    stack_error,
)
from cloudsite.errors import Cancelled, StackBusy, StackError

FAILED_CREATE: Final = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"})


@dataclass(frozen=True)
class Prepared:
    kind: str  # CREATE or UPDATE: the change set type to use
    state: StackState | None


def stack_prepare(
    cfn: Any, name: str, *, follow: Follow, yes: bool, no_wait: bool, token: str
) -> Prepared:
    """Recover the stack from whatever state an earlier run left (see the module docstring)."""
    state = stack_describe(cfn, name)
    if state is not None and state.busy:
        state = _wait_idle(cfn, state, follow=follow, no_wait=no_wait)
    if state is None or state.status == "REVIEW_IN_PROGRESS":
        return Prepared("CREATE", state)
    if state.status in FAILED_CREATE:
        _recreate(cfn, state, follow=follow, yes=yes, token=token)
        return Prepared("CREATE", None)
    if state.status == "UPDATE_ROLLBACK_FAILED":
        return Prepared("UPDATE", _continue_rollback(cfn, state, follow=follow, token=token))
    if state.status == "DELETE_FAILED":
        raise StackError(
            f"stack {name}",
            "DELETE_FAILED: an earlier delete did not finish",
            hint="run `cloudsite down` to finish deleting it, then `cloudsite up`",
        )
    return Prepared("UPDATE", state)


def _wait_idle(cfn: Any, state: StackState, *, follow: Follow, no_wait: bool) -> StackState | None:
    if no_wait:
        raise StackBusy(
            f"stack {state.name}",
            f"{state.status}: another operation is in progress",
            hint="rerun without --no-wait to wait for it, or watch it: cloudsite status --watch",
        )
    follow.ui.info(f"stack {state.name} is {state.status}; waiting for that to finish first")
    after = events_latest(cfn, state.stack_id)
    final, _ = follow.run(state.stack_id, after=after, what=f"waiting for {state.status}")
    return None if final.status == "DELETE_COMPLETE" else final


def _recreate(cfn: Any, state: StackState, *, follow: Follow, yes: bool, token: str) -> None:
    events = events_since(cfn, state.stack_id, seen=set())  # all of them, oldest first
    failure = first_failure(events, stack_name=state.name)
    why = failure.describe() if failure else state.reason or "no reason recorded"
    follow.ui.warn(f"stack {state.name} is {state.status}: its creation failed earlier: {why}")
    follow.ui.info("A stack in this state cannot be updated; it has to be deleted and created.")
    if not follow.ui.confirm(f"Delete stack {state.name} and create it again?", yes=yes):
        raise Cancelled(f"stack {state.name}", "not recreated", hint="nothing was changed")
    final, events = stack_delete(cfn, state, follow=follow, token=token)
    if final.status != "DELETE_COMPLETE":
        raise stack_error(final, events, hint="run `cloudsite down` to finish the delete")


def _continue_rollback(cfn: Any, state: StackState, *, follow: Follow, token: str) -> StackState:
    follow.ui.warn(
        f"stack {state.name} is UPDATE_ROLLBACK_FAILED: an update failed and so did its "
        "rollback; continuing the rollback"
    )
    after = events_latest(cfn, state.stack_id)
    cfn.continue_update_rollback(StackName=state.stack_id, ClientRequestToken=token)
    final, events = follow.run(state.stack_id, after=after, what="continuing the rollback")
    if final.status == "UPDATE_ROLLBACK_COMPLETE":
        follow.ui.done(f"stack {state.name} rolled back to its last working version")
        return final
    failure = first_failure(events, stack_name=state.name)
    skip = failure.logical_id if failure else "RESOURCE"
    raise stack_error(
        final,
        events,
        hint=f"fix the resource by hand, or skip it: aws cloudformation continue-update-rollback "
        f"--stack-name {state.name} --resources-to-skip {skip}",
    )
