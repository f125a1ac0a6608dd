"""Teach moto's CloudFormation to delete a stack the way CloudFormation does:

- the types the stack uses whose moto models delete nothing (a no-op) now delete: route tables
  (with their routes and associations), internet gateways and their attachments, flow logs;
- a resource that is already gone counts as deleted (an egress rule whose group went first);
- a bucket that is not empty refuses to go ("BucketNotEmpty"), where moto silently kept it;
- a resource that will not go leaves the stack DELETE_FAILED, with a DELETE_FAILED event naming
  it and why, instead of moto's error from DeleteStack and a stack that vanished anyway.

moto writes S3 server access logs into the access-log bucket as the other buckets are emptied,
as AWS delivers the load balancer's logs, so the first delete of the stack fails on that bucket
exactly as it does on AWS, and `cloudsite down`'s retry is exercised for real.
Import this module before the server starts (tests/cli/emulator.py does).
"""

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpn_gateway import VPCGatewayAttachment
from moto.s3.models import FakeBucket


def _ec2(account_id: str, region_name: str) -> Any:
    return ec2_backends[account_id][region_name]


def _delete_route_table(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    ec2 = _ec2(account_id, region_name)
    table = ec2.route_tables.get(resource_name)
    if table is None:
        return
    table._associations.clear()  # its SubnetRouteTableAssociations go with it
    ec2.delete_route_table(resource_name)  # and so do its routes


def _delete_gateway_attachment(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    # The attachment's physical id is the VPC's id: detach whatever gateway is attached to it.
    ec2 = _ec2(account_id, region_name)
    for gateway in list(ec2.internet_gateways.values()):
        if gateway.vpc is not None and gateway.vpc.id == resource_name:
            ec2.detach_internet_gateway(gateway.id, resource_name)


def _delete_internet_gateway(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    ec2 = _ec2(account_id, region_name)
    gateway = ec2.internet_gateways.get(resource_name)
    if gateway is None:
        return
    if gateway.vpc is not None:
        raise _still_attached(gateway)  # its attachment goes first; moto retries in order
    ec2.delete_internet_gateway(resource_name)


def _still_attached(gateway: Any) -> Exception:
    from moto.ec2.exceptions import DependencyViolationError

    return DependencyViolationError(f"{gateway.id} is being utilized by {gateway.vpc.id}")


def _delete_flow_log(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    ec2 = _ec2(account_id, region_name)
    if resource_name in ec2.flow_logs:
        ec2.delete_flow_logs([resource_name])


def _gone(error: Exception) -> bool:
    """Whether an error says the resource no longer exists (CloudFormation then carries on)."""
    code = str(getattr(error, "error_type", "") or getattr(error, "code", ""))
    return any(m in type(error).__name__ or m in code for m in ("NotFound", "NoSuch", "Missing"))


def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
    logical_id = getattr(parsed_resource, "logical_resource_id", "")
    failures = self.__dict__.setdefault("cloudsite_failures", {})
    try:
        _original_delete(self, parsed_resource, resource_json)
    except Exception as error:
        if not _gone(error):
            failures[logical_id] = (resource_json.get("Type", ""), _reason(error))
            raise
    failures.pop(logical_id, None)
    # Deleted for good: moto would otherwise create it again when a DELETE_FAILED stack's
    # resources are listed.
    self._resource_json_map.pop(logical_id, None)


def _reason(error: Exception) -> str:
    message = getattr(error, "message", "") or str(error)
    return f"{message} (Service: emulated, Status Code: 400)"


def _delete_bucket(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    from moto.s3.exceptions import BucketNotEmpty
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(region_name)]
    if backend.buckets.get(resource_name) is not None and backend.get_bucket(resource_name).keys:
        raise BucketNotEmpty(resource_name)
    _original_bucket_delete(resource_name, cloudformation_json, account_id, region_name)


def _stack_delete(self: Any) -> None:
    """Stack.delete, ending DELETE_FAILED (with the resources' own events) when one stays."""
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        self.resource_map.delete()
    except Exception:
        failures = self.resource_map.__dict__.get("cloudsite_failures", {})
        for logical_id, (rtype, reason) in failures.items():
            self.events.append(_resource_event(self, logical_id, rtype, reason))
        names = ", ".join(failures) or "unknown"
        self._add_stack_event(
            "DELETE_FAILED",
            resource_status_reason=f"The following resource(s) failed to delete: [{names}]. ",
        )
        self.status = "DELETE_FAILED"
        raise _DeleteFailed() from None
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"


class _DeleteFailed(Exception):
    pass


def _resource_event(stack: Any, logical_id: str, rtype: str, reason: str) -> Any:
    from moto.cloudformation.models import Event

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
        _original_backend_delete(self, stack.stack_id)
    except _DeleteFailed:
        self.stacks[stack.stack_id] = stack


_original_delete = parsing.ResourceMap._delete_resource
parsing.ResourceMap._delete_resource = _delete_resource  # type: ignore[method-assign]
_original_bucket_delete = FakeBucket.delete_from_cloudformation_json
FakeBucket.delete_from_cloudformation_json = classmethod(_delete_bucket)  # type: ignore[method-assign,assignment]
Stack.delete = _stack_delete  # type: ignore[method-assign]
_original_backend_delete = CloudFormationBackend.delete_stack
CloudFormationBackend.delete_stack = _backend_delete_stack  # type: ignore[method-assign]
for _cls, _delete in (
    (RouteTable, _delete_route_table),
    (VPCGatewayAttachment, _delete_gateway_attachment),
    (InternetGateway, _delete_internet_gateway),
    (FlowLogs, _delete_flow_log),
):
    _cls.delete_from_cloudformation_json = classmethod(_delete)  # type: ignore[method-assign,assignment]
