"""Zero-downtime rollouts through the real hooks: two instances behind HAProxy, a lifecycle
runner in CodeDeploy's order, the AWS CLI against moto, a registry in ECR's place, and a load
generator counting every failed request while the rollout runs."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.conftest import REGION, SITE_HOST, STACK, AwsStandIn, Releases
from tests.integration.test_image import http_get
from tests.support.codedeploy import Deployment, DeploymentGroup, Instance, write_env_file
from tests.support.engine import Engine
from tests.support.haproxy import haproxy_available, load_balancer
from tests.support.load import LoadGenerator
from tests.support.servers import free_port

pytestmark = [pytest.mark.engine, pytest.mark.emulator, pytest.mark.network]


def instance_env(engine: Engine, aws: AwsStandIn, *, name: str, port: int) -> dict[str, str]:
    """What user data writes to /etc/cloudsite/env, plus the overrides for a local engine."""
    return {
        "CLOUDSITE_STACK": STACK,
        "AWS_REGION": REGION,
        "CLOUDSITE_APP_PORT": str(port),
        "CLOUDSITE_APP_LOG_GROUP": f"/cloudsite/{STACK}/app",
        "CLOUDSITE_PARAMETER_PATH": aws.parameter_path,
        "CLOUDSITE_SECRET_KEY_ARN": aws.secret_key_arn,
        "CLOUDSITE_DATABASE_SECRET_ARN": "",
        "CLOUDSITE_CONTAINER": engine.name(name),
        "CLOUDSITE_LOG_DRIVER": "json-file",  # awslogs needs CloudWatch
        "CLOUDSITE_BIND_ADDRESS": "127.0.0.1",
        "CLOUDSITE_VALIDATE_TIMEOUT": "12",
        "CLOUDSITE_STOP_TIMEOUT": "10",
    }


def new_instance(engine: Engine, aws: AwsStandIn, root: Path, *, name: str) -> Instance:
    port = free_port()
    env_file = write_env_file(
        root / "etc" / "cloudsite" / "env", instance_env(engine, aws, name=name, port=port)
    )
    return Instance(name=name, root=root, port=port, env_file=env_file)


@pytest.fixture(scope="module")
def fleet(
    engine: Engine, aws: AwsStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeploymentGroup]:
    require(haproxy_available(), "HAProxy (Debian's haproxy)")
    tmp = tmp_path_factory.mktemp("fleet")
    with load_balancer(tmp, deregistration_delay=5) as lb:
        group = DeploymentGroup(
            application=STACK,
            name=f"{STACK}-web",
            env=engine.script_env(**aws.env),
            load_balancer=lb,
        )
        try:
            for name in ("a", "b"):
                group.add(new_instance(engine, aws, tmp / name, name=name))
            yield group
        finally:
            for instance in group.instances:
                engine.docker("rm", "--force", engine.name(instance.name), check=False)


def released(instance: Instance) -> str:
    status, body = http_get(f"http://127.0.0.1:{instance.port}/static/cstest-release.txt")
    return body.decode().strip() if status == 200 else f"HTTP {status}"


def rollout_under_load(
    group: DeploymentGroup, bundle: Path, *, figures: list[str], label: str
) -> tuple[Deployment, LoadGenerator]:
    assert group.load_balancer is not None
    with LoadGenerator(port=group.load_balancer.port, host=SITE_HOST) as load:
        time.sleep(1)  # traffic is flowing before the deployment starts
        deployment = group.deploy(bundle)
        time.sleep(1)
    for d in (deployment, deployment.rollback):
        if d is not None:
            steps = " ".join(f"{i}:{e}={s:.1f}" for i, e, s in d.events if s >= 0.5)
            figures.append(f"{label}: {d.id} {d.status}: {steps}")
    figures.append(f"{label}: {load.report.summary()}")
    return deployment, load


def test_rollout_v1_to_v2_one_instance_at_a_time_fails_no_request(
    fleet: DeploymentGroup, releases: Releases, figures: list[str]
) -> None:
    first = fleet.deploy(releases.bundle("v1"))
    assert first.status == "Succeeded", first.failure
    assert fleet.load_balancer and fleet.load_balancer.serving() == ["a", "b"]

    deployment, load = rollout_under_load(
        fleet, releases.bundle("v2"), figures=figures, label="rollout v1 -> v2"
    )
    assert deployment.status == "Succeeded", deployment.failure
    order = [(i, e) for i, e, _ in deployment.events if e in ("BlockTraffic", "AllowTraffic")]
    assert order == [
        ("a", "BlockTraffic"),
        ("a", "AllowTraffic"),
        ("b", "BlockTraffic"),
        ("b", "AllowTraffic"),
    ]
    assert load.report.failures == 0, load.report.failure_samples
    assert load.report.requests > 100
    assert load.report.releases["v2"] > 0
    assert [released(i) for i in fleet.instances] == ["v2", "v2"]
    assert fleet.load_balancer.serving() == ["a", "b"]


def test_broken_v3_fails_validate_service_and_rolls_back_to_v2_failing_no_request(
    fleet: DeploymentGroup, releases: Releases, figures: list[str]
) -> None:
    if fleet.last_good != releases.bundle("v2"):
        assert fleet.deploy(releases.bundle("v2")).status == "Succeeded"

    deployment, load = rollout_under_load(
        fleet, releases.bundle("v3", broken=True), figures=figures, label="rollout v2 -> v3 -> v2"
    )
    assert deployment.status == "Failed"
    assert deployment.failure and deployment.failure.event == "ValidateService"
    assert deployment.failure.instance.name == "a"  # b was never touched by v3
    assert "did not both answer 200" in deployment.failure.detail
    assert deployment.rollback and deployment.rollback.status == "Succeeded"
    assert deployment.rollback.id != deployment.id
    assert load.report.failures == 0, load.report.failure_samples
    assert "v3" not in load.report.releases
    assert [released(i) for i in fleet.instances] == ["v2", "v2"]
    assert fleet.load_balancer and fleet.load_balancer.serving() == ["a", "b"]


def test_a_new_instance_joins_with_the_last_good_revision_before_taking_traffic(
    fleet: DeploymentGroup,
    releases: Releases,
    engine: Engine,
    aws: AwsStandIn,
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> None:
    if fleet.last_good != releases.bundle("v2"):
        assert fleet.deploy(releases.bundle("v2")).status == "Succeeded"
    instance = new_instance(engine, aws, tmp_path_factory.mktemp("joiner"), name="c")
    assert fleet.load_balancer is not None
    with LoadGenerator(port=fleet.load_balancer.port, host=SITE_HOST) as load:
        joined = fleet.join(instance)
        time.sleep(1)
    figures.append(f"an instance joins: {load.report.summary()}")
    assert joined.status == "Succeeded", joined.failure
    assert load.report.failures == 0, load.report.failure_samples
    assert released(instance) == "v2"
    assert fleet.load_balancer.serving() == ["a", "b", "c"]


def test_secret_key_reaches_the_site_but_no_log_inspect_or_deploy_file(
    fleet: DeploymentGroup, engine: Engine, aws: AwsStandIn
) -> None:
    if fleet.last_good is None:
        pytest.skip("needs a deployed fleet (the rollout tests above)")
    secret = aws.secret_key
    for instance in fleet.instances:
        name = engine.name(instance.name)
        # The site runs on it: gunicorn's environment holds exactly the key from Secrets Manager.
        environ = engine.docker(
            "exec", name, "sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"
        ).stdout
        assert f"DJANGO_SECRET_KEY={secret}" in environ.splitlines()
        assert secret not in engine.docker("inspect", name).stdout
        logs = engine.docker("logs", name)
        assert secret not in logs.stdout + logs.stderr
        for path in instance.root.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"the secret key is in {path}"
