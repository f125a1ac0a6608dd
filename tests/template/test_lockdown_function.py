"""The lockdown function's own code (inline in the template), run against moto's EC2 API, with
a real HTTP server in CloudFormation's place to receive its answer."""

import importlib.util
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest

from tests.support.moto import moto_environment
from tests.support.servers import serving
from tests.template.cfn import Json

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def ec2() -> Iterator[Any]:
    with moto_environment():  # the function builds its own boto3 client, as in Lambda
        yield boto3.client("ec2")


@pytest.fixture
def function(template: Json, tmp_path: Path) -> ModuleType:
    code = template["Resources"]["LockdownFunction"]["Properties"]["Code"]["ZipFile"]
    assert len(code) <= 4096, "CloudFormation's limit for inline function code"
    (tmp_path / "index.py").write_text(code)
    spec = importlib.util.spec_from_file_location("lockdown_index", tmp_path / "index.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[Json]]]:
    """A loopback stand-in for CloudFormation's pre-signed response URL; collects the PUTs."""
    answers: list[Json] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as server:
        yield f"http://127.0.0.1:{server.server_port}/response?signature=x", answers


def event(request_type: str, group_id: str, url: str) -> Json:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:stack/site",
        "RequestId": "request-1",
        "LogicalResourceId": "DefaultSecurityGroupLockdown",
        "ResourceProperties": {"SecurityGroupId": group_id},
    }


def default_group(ec2: Any) -> Json:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    # AWS's default group also admits its own members; moto's does not, so add that rule.
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group["GroupId"]}]}],
    )
    (group,) = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    return dict(group)


CONTEXT = SimpleNamespace(log_stream_name="2026/11/27/[$LATEST]abc")


def test_create_revokes_every_rule_of_the_default_group_and_answers_success(
    ec2: Any, function: ModuleType, cloudformation: tuple[str, list[Json]]
) -> None:
    url, answers = cloudformation
    group = default_group(ec2)
    assert group["IpPermissions"] and group["IpPermissionsEgress"], "AWS opens a new default group"
    function.handler(event("Create", group["GroupId"], url), CONTEXT)
    (after,) = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert (after["IpPermissions"], after["IpPermissionsEgress"]) == ([], [])
    (answer,) = answers
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == group["GroupId"]
    assert (answer["RequestId"], answer["LogicalResourceId"]) == (
        "request-1",
        "DefaultSecurityGroupLockdown",
    )


def test_a_failure_is_reported_to_cloudformation_instead_of_hanging_it(
    ec2: Any, function: ModuleType, cloudformation: tuple[str, list[Json]]
) -> None:
    url, answers = cloudformation
    function.handler(event("Create", "sg-00000000000000000", url), CONTEXT)
    (answer,) = answers
    assert answer["Status"] == "FAILED"
    assert "sg-00000000000000000" in answer["Reason"]


def test_delete_changes_nothing_and_succeeds(
    ec2: Any, function: ModuleType, cloudformation: tuple[str, list[Json]]
) -> None:
    url, answers = cloudformation
    group = default_group(ec2)
    function.handler(event("Delete", group["GroupId"], url), CONTEXT)
    (after,) = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert after["IpPermissions"] == group["IpPermissions"]
    assert [a["Status"] for a in answers] == ["SUCCESS"]
