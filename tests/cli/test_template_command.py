"""`cloudsite template`: the template as shipped, and the parameters the configuration makes
(with 'my-ip' resolved by a loopback stand-in for the address service)."""

import http.server
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudsite.outputs import Param
from cloudsite.template import template_text
from tests.cli.conftest import Recorder, invoke
from tests.support.servers import serving


@pytest.fixture
def my_ip_service() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"203.0.113.7\n")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as server:
        yield f"http://127.0.0.1:{server.server_port}/"


def test_template_prints_exactly_the_shipped_template(project: Path) -> None:
    result = invoke("template")
    assert result.exit_code == 0
    assert result.stdout == template_text().rstrip("\n") + "\n"


def test_parameters_come_from_the_configuration_with_my_ip_resolved(
    project: Path, my_ip_service: str, recorder: Recorder
) -> None:
    (project / "cloudsite.toml").write_text(
        'name = "wanderpage"\nregion = "eu-west-1"\nssh_cidrs = ["my-ip", "10.0.0.0/8"]\n'
        'instance_type = "t3.medium"\nmin_size = 1\ndatabase = true\n'
    )
    env = {"CLOUDSITE_MY_IP_URL": my_ip_service, "AWS_ENDPOINT_URL": recorder.url}
    result = invoke("template", "--parameters", env=env)
    assert result.exit_code == 0, result.stderr
    params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(result.stdout)}
    assert params[Param.SSH_CIDRS] == "203.0.113.7/32,10.0.0.0/8"
    assert params[Param.INSTANCE_TYPE] == "t3.medium"
    assert params[Param.MIN_SIZE] == "1"
    assert params[Param.ENABLE_DATABASE] == "true"
    assert params[Param.SOURCE_MODE] == "s3"
    assert params[Param.ALLOWED_CLIENT_CIDRS] == "0.0.0.0/0"
    assert params[Param.PUBLIC_SUBNET_IDS] == ""
    assert params[Param.CERTIFICATE_ARN].startswith("arn:aws:acm:eu-west-1:")
    assert "`cloudsite up` fills it in" in result.stderr
    assert recorder.requests == []  # no AWS call


def test_an_unreachable_address_service_is_bad_input_and_no_aws_call(
    project: Path, recorder: Recorder
) -> None:
    (project / "cloudsite.toml").write_text(
        'name = "wanderpage"\nregion = "us-east-1"\nssh_cidrs = ["my-ip"]\n'
    )
    env = {"CLOUDSITE_MY_IP_URL": recorder.url, **recorder.env}
    result = invoke("up", "--yes", env=env)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ssh_cidrs: cannot find your public address for 'my-ip'")
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert recorder.requests == ["GET /"]  # the address service only, never AWS


def test_a_value_the_template_refuses_is_reported_against_its_key(
    project: Path, recorder: Recorder
) -> None:
    (project / "cloudsite.toml").write_text(
        'name = "wanderpage"\nregion = "us-east-1"\ninstance_type = "t4g.small"\n'
    )
    result = invoke("up", "--yes", env=recorder.env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: instance_type: 't4g.small' is not one of t3.micro")
    assert recorder.requests == []
