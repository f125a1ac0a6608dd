"""Teach moto what CloudFormation does when a change set executes: the stack's outputs and
parameters come from the change set's template (moto keeps the empty ones it started with)."""

from typing import Any

from moto.cloudformation.models import CloudFormationBackend


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = self.describe_change_set(change_set_name)
    _original(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    stack._parse_template()
    stack.parameters = change_set.parameters
    stack.output_map = stack._create_output_map()


_original = CloudFormationBackend.execute_change_set
CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
