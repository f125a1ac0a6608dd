"""Teach moto what CloudFormation does with change sets:

- when one executes, the stack's outputs and parameters come from the change set's template
  (moto keeps the empty ones it started with);
- a resource whose properties refer to a parameter whose value changed is modified, as
  CloudFormation reports it (moto compares only the templates), so a new `InstanceType`
  modifies the launch template and `cloudsite plan` can say the instances will be replaced.
"""

from typing import Any

from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = self.describe_change_set(change_set_name)
    _original(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    stack._parse_template()
    stack.parameters = change_set.parameters
    stack.output_map = stack._create_output_map()


def _diff(self: Any) -> list[Change]:
    resource_map = self.stack.resource_map
    names = resource_map.build_resource_diff(self.template_dict, self.parameters)
    new, old = self.template_dict["Resources"], resource_map._resource_json_map
    changes = []
    for action, logical_ids in names.items():
        for logical_id in dict.fromkeys(logical_ids):  # once each, in order
            resource = new[logical_id] if action != "Remove" else old[logical_id]
            changes.append(Change(action, logical_id, resource["Type"]))
    return changes


_original = CloudFormationBackend.execute_change_set
CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
ChangeSet.diff = _diff  # type: ignore[method-assign]
