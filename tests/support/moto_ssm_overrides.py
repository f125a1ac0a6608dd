"""Teach moto's SSM the Run Command and Session Manager behaviour `cloudsite manage` relies on.

moto (5.2) accepts SendCommand, runs nothing and reports every invocation Success at once; it
has no CancelCommand, StartSession or TerminateSession, and drops CloudWatchOutputConfig. Here,
when an agent stand-in is attached (tests/support/ssm_agent.py, `attach`):
- SendCommand checks each parameter against the document's allowedPattern (InvalidParameters,
  as SSM answers), keeps CloudWatchOutputConfig, and hands the command to the agent; its
  invocations are InProgress until the agent ends them with the real ResponseCode;
- ListCommands and GetCommandInvocation report that live state;
- CancelCommand asks the agent to stop the command (the invocation ends Cancelled);
- StartSession opens a session the agent runs (its id, token and stream URL are made up);
  TerminateSession ends it.
Always: a command sent to InstanceIds without Targets goes to those instances alone (moto
filters the instances by an empty Targets list, and so sends it to every instance).
Without an agent, moto otherwise behaves as it always did. Import this module before the
server starts (tests/cli/emulator.py does); `moto-api/reset` detaches the agent with the rest
of the state.
"""

import json
import re
import secrets
from typing import Any, Protocol

from moto.core.responses import ActionResult
from moto.ssm.exceptions import SSMException
from moto.ssm.models import Command, SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse


class Agent(Protocol):
    def dispatch(self, command: Command, document: dict[str, Any]) -> None: ...

    def cancel(self, command: Command, instance_ids: list[str]) -> None: ...

    def session(
        self, session_id: str, request: dict[str, Any], document: dict[str, Any]
    ) -> None: ...

    def terminate(self, session_id: str) -> None: ...


def attach(agent: Agent, *, account_id: str = "123456789012", region: str = "us-east-1") -> None:
    ssm_backends[account_id][region].cloudsite_agent = agent  # type: ignore[attr-defined]


def _agent(backend: SimpleSystemManagerBackend) -> Agent | None:
    return backend.__dict__.get("cloudsite_agent")


def _document(backend: SimpleSystemManagerBackend, name: str) -> dict[str, Any]:
    found = backend.get_document(name, "", "", "JSON")
    return dict(json.loads(found["Content"]))


def _checked(document: dict[str, Any], parameters: dict[str, list[str]]) -> None:
    """SSM refuses a parameter the document does not declare or whose value fails its
    allowedPattern, before anything runs."""
    declared = document.get("parameters", {})
    for name, values in parameters.items():
        spec = declared.get(name)
        if spec is None:
            raise SSMException("InvalidParameters", f"Parameter {name!r} is not in the document.")
        pattern = spec.get("allowedPattern")
        for value in values:
            if pattern and not re.search(pattern, value):
                raise SSMException(
                    "InvalidParameters",
                    f"Parameter {name!r} value does not match the allowed pattern {pattern}.",
                )


def send_command(self: SimpleSystemManagerResponse) -> ActionResult:
    agent = _agent(self.ssm_backend)
    if agent is None:
        return _send_command(self)
    document = _document(self.ssm_backend, self._get_param("DocumentName"))
    _checked(document, self._get_param("Parameters", {}))
    _send_command(self)
    command = self.ssm_backend._commands[-1]
    config = self._get_param("CloudWatchOutputConfig") or {}
    command.cloudwatch_output_config = config  # type: ignore[attr-defined]
    command.status = "InProgress"
    for invocation in command.invocations:
        invocation.update(
            Status="InProgress", StatusDetails="InProgress", ResponseCode=-1, PluginName="manage"
        )
    agent.dispatch(command, document)
    return ActionResult({"Command": _response_object(command)})


def _response_object(command: Command) -> dict[str, Any]:
    found = _original_response_object(command)
    ends = [i["Status"] for i in command.invocations]
    if ends:  # the command's status follows its one invocation's
        found["Status"] = found["StatusDetails"] = ends[0]
    found["CloudWatchOutputConfig"] = getattr(command, "cloudwatch_output_config", {})
    return found


def cancel_command(self: SimpleSystemManagerResponse) -> ActionResult:
    command = self.ssm_backend.get_command_by_id(self._get_param("CommandId"))
    agent = _agent(self.ssm_backend)
    if agent is not None:
        agent.cancel(command, self._get_param("InstanceIds") or command.instance_ids)
    return ActionResult({})


def start_session(self: SimpleSystemManagerResponse) -> ActionResult:
    agent = _agent(self.ssm_backend)
    if agent is None:
        raise SSMException("TargetNotConnected", f"{self._get_param('Target')} is not connected.")
    request = {
        key: self._get_param(key) for key in ("Target", "DocumentName", "Parameters", "Reason")
    }
    document = _document(self.ssm_backend, request["DocumentName"])
    _checked(document, request["Parameters"] or {})
    session_id = f"moto-{secrets.token_hex(8)}"
    agent.session(session_id, request, document)
    region = self.ssm_backend.region_name
    return ActionResult(
        {
            "SessionId": session_id,
            "TokenValue": secrets.token_urlsafe(32),
            "StreamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session_id}",
        }
    )


def terminate_session(self: SimpleSystemManagerResponse) -> ActionResult:
    session_id = self._get_param("SessionId")
    agent = _agent(self.ssm_backend)
    if agent is not None:
        agent.terminate(session_id)
    return ActionResult({"SessionId": session_id})


def _instance_ids_from_targets(self: Command) -> list[str]:
    return _original_from_targets(self) if self.targets else []


_original_from_targets = Command._get_instance_ids_from_targets
Command._get_instance_ids_from_targets = _instance_ids_from_targets  # type: ignore[method-assign]
_send_command = SimpleSystemManagerResponse.send_command
SimpleSystemManagerResponse.send_command = send_command  # type: ignore[method-assign]
SimpleSystemManagerResponse.cancel_command = cancel_command  # type: ignore[attr-defined]
SimpleSystemManagerResponse.start_session = start_session  # type: ignore[attr-defined]
SimpleSystemManagerResponse.terminate_session = terminate_session  # type: ignore[attr-defined]
_original_response_object = Command.response_object
Command.response_object = _response_object  # type: ignore[method-assign,assignment]
