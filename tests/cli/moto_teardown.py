"""Teach moto's CloudFormation to fail a stack delete the way CloudFormation does (the shared
models in tests/support teach it to delete each resource; this is about what happens when one
will not go):

- a bucket that is not empty refuses to go ("BucketNotEmpty"), where moto silently keeps it
  and reports the stack deleted;
- a resource that will not go leaves the stack DELETE_FAILED, with a DELETE_FAILED event naming
  it and why, instead of moto's error from DeleteStack and a stack that vanished anyway;
- the resources deleted before the failure stay deleted (moto would create them again when the
  DELETE_FAILED stack's resources are listed).

moto writes S3 server access logs into the access-log bucket as the other buckets are emptied,
as AWS delivers the load balancer's logs, so the first delete of the stack fails on that bucket
exactly as it does on AWS, and `cloudsite down`'s retry is exercised for real.
Import this module before the server starts (tests/cli/emulator.py does).
"""

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Event, Stack
from moto.s3.exceptions import BucketNotEmpty
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition


def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
    logical_id = getattr(parsed_resource, "logical_resource_id", "")
    failures = self.__dict__.setdefault("cloudsite_failures", {})
    try:
        _original_delete_resource(self, parsed_resource, resource_json)
    except Exception as error:
        message = getattr(error, "message", "") or str(error)
        failures[logical_id] = (resource_json.get("Type", ""), f"{message} (Service: emulated)")
        raise
    failures.pop(logical_id, None)
    self._resource_json_map.pop(logical_id, None)  # deleted for good


def _delete_bucket(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    backend = s3_backends[account_id][get_partition(region_name)]
    if resource_name in backend.buckets and backend.get_bucket(resource_name).keys:
        raise BucketNotEmpty(resource_name)
    _original_delete_bucket(resource_name, cloudformation_json, account_id, region_name)


class _DeleteFailed(Exception):
    pass


def _stack_delete(self: Any) -> None:
    """Stack.delete, ending DELETE_FAILED (with the resources' own events) when one stays."""
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        self.resource_map.delete()
    except Exception:
        failures = self.resource_map.__dict__.get("cloudsite_failures", {})
        for logical_id, (rtype, reason) in failures.items():
            self.events.append(_failed_event(self, logical_id, rtype, reason))
        names = ", ".join(failures) or "unknown"
        reason = f"The following resource(s) failed to delete: [{names}]. "
        self._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
        self.status = "DELETE_FAILED"
        raise _DeleteFailed() from None
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"


def _failed_event(stack: Any, logical_id: str, rtype: str, reason: str) -> Event:
    physical = stack.resource_map._parsed_resources.get(logical_id)
    return Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=getattr(physical, "physical_resource_id", "") or "",
        resource_type=rtype,
        resource_status="DELETE_FAILED",
        resource_status_reason=reason,
        resource_properties=None,
    )


def _backend_delete_stack(self: Any, name_or_stack_id: str) -> None:
    """DeleteStack: a stack whose delete fails stays, DELETE_FAILED, as on AWS."""
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None
    )
    if stack is None:
        return
    try:
        _original_delete_stack(self, stack.stack_id)
    except _DeleteFailed:
        self.stacks[stack.stack_id] = stack


_original_delete_resource = parsing.ResourceMap._delete_resource
parsing.ResourceMap._delete_resource = _delete_resource  # type: ignore[method-assign]
_original_delete_bucket = FakeBucket.delete_from_cloudformation_json
FakeBucket.delete_from_cloudformation_json = classmethod(_delete_bucket)  # type: ignore[method-assign,assignment]
Stack.delete = _stack_delete  # type: ignore[method-assign]
_original_delete_stack = CloudFormationBackend.delete_stack
CloudFormationBackend.delete_stack = _backend_delete_stack  # type: ignore[method-assign]
