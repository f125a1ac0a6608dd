"""botocore Stubber, fed from recorded response shapes (tests/cli/recorded/*.json), for the
APIs moto cannot play: following a pipeline, CodeBuild and CodeDeploy failures, and the stack
states a failed operation leaves behind.

A recording is a list of steps, each answering one call of one client, in order:
    {"service": "codepipeline", "operation": "get_pipeline_execution",
     "expect": {...optional request parameters...}, "response": {...}}
    {"service": "cloudformation", "operation": "describe_stacks",
     "error": {"code": "ValidationError", "message": "..."}}
Stubber checks every response against botocore's service model, so a step that does not match
AWS's real shape fails the test. Timestamps are written as ISO 8601 and become datetimes, as
botocore's parser would make them.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from cloudsite.aws import Aws
from cloudsite.aws.waits import Clock

RECORDED = Path(__file__).parent / "recorded"


def client(service: str) -> Any:
    make: Any = boto3.client
    return make(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _typed(shape: Any, value: Any) -> Any:
    """A JSON value converted to what botocore's parser returns for `shape`."""
    if shape is None:
        return value
    if shape.type_name == "timestamp" and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _typed(shape.members.get(k), v) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_typed(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _typed(shape.value, v) for k, v in value.items()}
    return value


def _expected(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: (ANY if v == "<any>" else v) for k, v in params.items()}


@dataclass
class Recording:
    """Stubbed clients for the services a recording uses."""

    clients: dict[str, Any] = field(default_factory=dict)
    stubbers: dict[str, Stubber] = field(default_factory=dict)

    def _stubber(self, service: str) -> Stubber:
        """The service's Stubber, made (with its client) the first time it is asked for."""
        if service not in self.clients:
            self.clients[service] = client(service)
            self.stubbers[service] = Stubber(self.clients[service])
        return self.stubbers[service]

    def add(self, step: dict[str, Any]) -> None:
        service = step["service"]
        stubber, api = self._stubber(service), self.clients[service]
        operation = api.meta.service_model.operation_model(
            api.meta.method_to_api_mapping[step["operation"]]
        )
        if "error" in step:
            stubber.add_client_error(
                step["operation"],
                service_error_code=step["error"]["code"],
                service_message=step["error"]["message"],
                http_status_code=step["error"].get("status", 400),
                expected_params=_expected(step.get("expect")),
            )
            return
        stubber.add_response(
            step["operation"],
            _typed(operation.output_shape, step.get("response", {})),
            _expected(step.get("expect")),
        )

    def expect_no_calls(self, *services: str) -> None:
        """Clients the code makes but must not call (a call fails the test)."""
        for service in services:
            if service not in self.clients:
                self._stubber(service).activate()

    def aws(self) -> Aws:
        return Aws(session=None, region="us-east-1", account="123456789012", clients=self.clients)

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def load(*names: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for name in names:
        steps.extend(json.loads((RECORDED / f"{name}.json").read_text()))
    return steps


@contextmanager
def recording(*steps: dict[str, Any]) -> Iterator[Recording]:
    """Clients answering exactly `steps`; every step must have been used by the end."""
    rec = Recording()
    for step in steps:
        rec.add(step)
    for stubber in rec.stubbers.values():
        stubber.activate()
    try:
        yield rec
        rec.assert_done()
    finally:
        for stubber in rec.stubbers.values():
            stubber.deactivate()


@dataclass
class FakeClock(Clock):
    """Time that passes only when the code sleeps."""

    poll: float = 5.0
    t: float = 0.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def wall(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC)  # real: certificates are checked against it
