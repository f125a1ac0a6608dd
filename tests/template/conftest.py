"""Fixtures for the template suite: the parsed template, renderings of it for the parameter
sets that matter, and one run of each slow checker per session."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import ROOT
from tests.template.cfn import Json, Rendered, load_template, render

# Parameter sets a user can choose. Every property test runs on the first two (the database
# off and on); the invariants (IAM, ingress, tags) run on all of them.
SCENARIOS: dict[str, dict[str, str]] = {
    "default": {},
    "database": {"EnableDatabase": "true"},
    "private-subnets": {"UsePrivateSubnets": "true", "EnableDatabase": "true"},
    "existing-vpc": {
        "VpcId": "vpc-0123456789abcdef0",
        "PublicSubnetIds": "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2",
        "PrivateSubnetIds": "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2",
        "EnableDatabase": "true",
    },
    "github-domain-ssh": {
        "SourceMode": "github",
        "ConnectionArn": "arn:aws:codeconnections:us-east-1:111111111111:connection/"
        "0f0e0d0c-0b0a-0908-0706-050403020100",
        "GitHubRepository": "example/site",
        "DomainName": "www.example.com",
        "HostedZoneId": "Z0123456789ABC",
        "AlarmEmail": "ops@example.com",
        "AllowedClientCidrs": "203.0.113.0/24,198.51.100.7/32",
        "SshCidrs": "198.51.100.0/24",
    },
    # Uploads in a bucket of the stack's own, with the database.
    "media": {"EnableMedia": "true", "EnableDatabase": "true"},
    # A later stack given what an earlier `cloudsite down` kept (tests/template/test_data.py).
    "kept-data": {
        "EnableMedia": "true",
        "MediaBucketName": "site-mediabucket-0abc1def2ghi",
        "EnableDatabase": "true",
        "DatabaseSnapshot": "site-snapshot-database-0123456789ab",
    },
    # Background work (tests/template/test_background.py): the queue, Valkey, schedules.
    "background": {
        "TaskBroker": "sqs",
        "EnableRedis": "true",
        "EnableSchedules": "true",
        "EnableDatabase": "true",
    },
}
# Every optional resource switched on: what the checkers must also see (checkov skips
# resources whose condition is false under the defaults).
EVERYTHING_ON = {
    "EnableDatabase": "true",
    "EnableMedia": "true",
    "UsePrivateSubnets": "true",
    "DomainName": "www.example.com",
    "HostedZoneId": "Z0123456789ABC",
    "AlarmEmail": "ops@example.com",
    "TaskBroker": "sqs",
    "EnableRedis": "true",
    "EnableSchedules": "true",
}


@pytest.fixture(scope="session")
def template() -> Json:
    return load_template()


@pytest.fixture(scope="session", params=["default", "database"])
def stack(request: pytest.FixtureRequest, template: Json) -> Rendered:
    """The template rendered with the database off, then on."""
    return render(template, SCENARIOS[request.param])


@pytest.fixture(scope="session", params=list(SCENARIOS))
def any_stack(request: pytest.FixtureRequest, template: Json) -> Rendered:
    return render(template, SCENARIOS[request.param])


@pytest.fixture(scope="session")
def decoded_templates(tmp_path_factory: pytest.TempPathFactory, template: Json) -> list[Path]:
    """The template as JSON (short tags expanded), as is and with everything switched on."""
    folder = tmp_path_factory.mktemp("templates")
    everything = json.loads(json.dumps(template))
    for name, value in EVERYTHING_ON.items():
        everything["Parameters"][name]["Default"] = value
    paths = [folder / "stack.json", folder / "stack-everything-on.json"]
    for path, content in zip(paths, [template, everything], strict=True):
        path.write_text(json.dumps(content, indent=1))
    return paths


def run_checker(*args: str) -> Any:
    result = subprocess.run(
        [str(ROOT / "scripts" / "checkers.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def checkov_report(decoded_templates: list[Path]) -> Json:
    report = run_checker("checkov", *map(str, decoded_templates))
    return dict(report)


@pytest.fixture(scope="session")
def guard_report(decoded_templates: list[Path]) -> list[Json]:
    return list(run_checker("cfn-guard", str(decoded_templates[0])))


# The stacks the emulator suites deploy once per session: the database off, then on.
EMULATOR_STACKS: dict[str, dict[str, str]] = {"site": {}, "sitedb": {"EnableDatabase": "true"}}


@pytest.fixture(scope="package")
def session() -> Iterator[Any]:
    """A boto3 session against moto's server on loopback, taught the stack's types."""
    import boto3

    from tests.support.moto import moto_environment

    with moto_environment() as env:
        yield boto3.Session(region_name=env["AWS_REGION"])


@pytest.fixture(scope="package")
def deployed(session: Any) -> dict[str, Any]:
    from tests.template.emulator import deploy

    return {n: deploy(session, name=n, **overrides) for n, overrides in EMULATOR_STACKS.items()}


@pytest.fixture(scope="package", params=list(EMULATOR_STACKS))
def live(request: pytest.FixtureRequest, deployed: dict[str, Any]) -> Any:
    return deployed[request.param]
