"""Zero-downtime rollouts through the real hooks: two instances behind HAProxy, a lifecycle
runner in CodeDeploy's order, the AWS CLI against moto, a registry in ECR's place, and a load
generator counting every failed request while the rollout runs. A third instance joins in the
middle of a rollout and leaves again on scale-in; the secrets reach the site and nothing else."""

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.conftest import REGION, SITE_HOST, STACK, AwsStandIn, Releases
from tests.integration.test_image import http_get
from tests.support.codedeploy import Deployment, DeploymentGroup, Instance, write_env_file
from tests.support.edges import available, load_balancer
from tests.support.engine import Engine
from tests.support.load import LoadGenerator
from tests.support.servers import free_port

pytestmark = [pytest.mark.engine, pytest.mark.emulator, pytest.mark.network]


def instance_env(
    engine: Engine, aws: AwsStandIn, *, name: str, port: int, root: Path
) -> dict[str, str]:
    """What user data writes to /etc/cloudsite/env, plus the overrides for a local engine and
    for an instance that is a folder (`root`) on this machine."""
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
        "CLOUDSITE_STATE_DIR": str(root / "run" / "cloudsite"),
    }


def new_instance(engine: Engine, aws: AwsStandIn, root: Path, *, name: str) -> Instance:
    port = free_port()
    env_file = write_env_file(
        root / "etc" / "cloudsite" / "env",
        instance_env(engine, aws, name=name, port=port, root=root),
    )
    return Instance(name=name, root=root, port=port, env_file=env_file)


@pytest.fixture(scope="module")
def fleet(
    engine: Engine, aws: AwsStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeploymentGroup]:
    require(available("haproxy"), "HAProxy (Debian's haproxy)")
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


def test_an_instance_joining_mid_rollout_gets_the_last_good_release_then_the_new_one(
    fleet: DeploymentGroup,
    releases: Releases,
    engine: Engine,
    aws: AwsStandIn,
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> None:
    """The Auto Scaling group launches c while a rollout (v2 -> v1) is half done. CodeDeploy's
    launch hook deploys the last *successful* revision (v2) through the same hooks, and c
    takes traffic only once healthy; right after the rollout, the follow-on deployment
    (OutdatedInstancesStrategy UPDATE) brings c to v1. No request fails throughout."""
    good, target = releases.bundle("v2"), releases.bundle("v1")
    if fleet.last_good != good:
        assert fleet.deploy(good).status == "Succeeded"
    lb = fleet.load_balancer
    assert lb is not None
    joiner = new_instance(engine, aws, tmp_path_factory.mktemp("joiner"), name="c")
    seen: dict[str, object] = {}

    def observe(deployment: Deployment, instance: Instance, event: str) -> None:
        mid_rollout = deployment.revision == target and (instance.name, event) == (
            "b",
            "BlockTraffic",
        )
        if mid_rollout and "join" not in seen:  # join's own events come through here too
            seen["join"] = "running"
            seen["join"] = fleet.join(joiner)
        if (instance.name, event) == ("c", "AllowTraffic") and "before traffic" not in seen:
            health = http_get(f"http://127.0.0.1:{joiner.port}/healthz")[0]
            seen["before traffic"] = (lb.stat("c")["stot"], health, released(joiner))

    fleet.observer = observe
    try:
        with LoadGenerator(port=lb.port, host=SITE_HOST) as load:
            time.sleep(1)
            rollout = fleet.deploy(target)
            time.sleep(1)
    finally:
        fleet.observer = None
    joined = seen["join"]
    assert isinstance(joined, Deployment)
    figures.append(f"an instance joins mid-rollout: {load.report.summary()}")
    assert rollout.status == "Succeeded", rollout.failure
    assert joined.status == "Succeeded" and joined.revision == good, joined.failure
    assert {name for name, _, _ in joined.events} == {"c"}
    # Before AllowTraffic: not one request had reached c, and it already served v2 healthily.
    assert seen["before traffic"] == ("0", 200, "v2")
    follow_on = rollout.follow_on
    assert follow_on and follow_on.status == "Succeeded", follow_on and follow_on.failure
    assert {name for name, _, _ in follow_on.events} == {"c"}  # a and b are not touched again
    assert load.report.failures == 0, load.report.failure_samples
    assert [released(i) for i in fleet.instances] == ["v1", "v1", "v1"]
    assert lb.serving() == ["a", "b", "c"]


def test_scale_in_drains_the_instance_before_it_goes_failing_no_request(
    fleet: DeploymentGroup,
    engine: Engine,
    aws: AwsStandIn,
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> None:
    lb = fleet.load_balancer
    assert lb is not None and fleet.last_good is not None
    leaving = next((i for i in fleet.instances if i.name == "c"), None)
    if leaving is None:  # run on its own: the group grows first
        leaving = new_instance(engine, aws, tmp_path_factory.mktemp("joiner"), name="c")
        assert fleet.join(leaving).status == "Succeeded"
    with LoadGenerator(port=lb.port, host=SITE_HOST) as load:
        time.sleep(1)
        drained = fleet.leave(leaving)
        # then the group terminates it: the container is stopped with the instance
        engine.docker("stop", "--time", "10", engine.name(leaving.name))
        time.sleep(1)
    figures.append(f"an instance leaves (drained {drained:.1f} s): {load.report.summary()}")
    assert load.report.failures == 0, load.report.failure_samples
    assert lb.serving() == ["a", "b"] and "c" not in lb.stats()
    assert [i.name for i in fleet.instances] == ["a", "b"]


def site_environment(engine: Engine, container: str) -> dict[str, str]:
    """The environment of the site's processes (gunicorn's master and workers)."""
    environ = engine.docker(
        "exec", container, "sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"
    ).stdout.splitlines()
    return dict(line.split("=", 1) for line in environ if "=" in line)


def secret_held_by(engine: Engine, container: str) -> tuple[str, str]:
    """What the site holds: DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FALLBACKS."""
    values = site_environment(engine, container)
    return values.get("DJANGO_SECRET_KEY", ""), values.get("DJANGO_SECRET_KEY_FALLBACKS", "")


def assert_secret_only_in_the_site(engine: Engine, instance: Instance, secret: str) -> None:
    """Not in `docker inspect`, the container's logs, any file under the instance's deploy
    directory (bundles, hook and agent logs, env file), nor on the container's only writable
    filesystem, /tmp (the secrets FIFO is gone once read)."""
    name = engine.name(instance.name)
    assert secret not in engine.docker("inspect", name).stdout
    logs = engine.docker("logs", name)
    assert secret not in logs.stdout + logs.stderr
    for path in instance.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"the secret is in {path}"
    found = engine.docker(
        "exec", "-i", name, "sh", "-c", 'read -r k; grep -rlF -- "$k" /tmp; true', input=secret
    )
    assert found.stdout == "", found.stdout


def test_secret_key_reaches_the_site_but_no_log_inspect_or_deploy_file(
    fleet: DeploymentGroup, engine: Engine, aws: AwsStandIn
) -> None:
    if fleet.last_good is None:
        pytest.skip("needs a deployed fleet (the rollout tests above)")
    for instance in fleet.instances:
        # The site runs on it: gunicorn's environment holds exactly the key from Secrets Manager.
        assert secret_held_by(engine, engine.name(instance.name)) == (aws.secret_key, "")
        assert_secret_only_in_the_site(engine, instance, aws.secret_key)


def test_a_key_rotation_keeps_the_old_and_the_new_key_valid_throughout(
    releases: Releases, engine: Engine, aws: AwsStandIn, tmp_path: Path
) -> None:
    """docs/deploy.md's two-phase rotation, through the real hooks: the new key is first
    staged (AWSPENDING) and only verified, then made current, when the old one (AWSPREVIOUS)
    is still verified. Any mix of old and new containers accepts what either signs."""
    sm = aws.client("secretsmanager")
    old, new = ("cstest-" + secrets.token_urlsafe(40) for _ in range(2))
    arn = sm.create_secret(Name=f"cstest-rotation-{secrets.token_hex(3)}", SecretString=old)["ARN"]
    instance = new_instance(engine, aws, tmp_path / "r", name="rotation")
    env = instance_env(engine, aws, name="rotation", port=instance.port, root=instance.root)
    write_env_file(instance.env_file, {**env, "CLOUDSITE_SECRET_KEY_ARN": arn})
    group = DeploymentGroup(
        application=STACK, name="cstest-rotation", env=engine.script_env(**aws.env)
    )
    group.add(instance)
    container = engine.name("rotation")
    try:
        # Phase 1: the new key waits as AWSPENDING; a deployment makes every container verify it.
        pending = sm.put_secret_value(SecretId=arn, SecretString=new, VersionStages=["AWSPENDING"])
        assert group.deploy(releases.bundle("v1")).status == "Succeeded"
        assert secret_held_by(engine, container) == (old, new)
        # Phase 2: the new key becomes current; the old one, now AWSPREVIOUS, still verifies.
        current = next(
            v["VersionId"]
            for v in sm.list_secret_version_ids(SecretId=arn)["Versions"]
            if "AWSCURRENT" in v["VersionStages"]
        )
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=pending["VersionId"],
            RemoveFromVersionId=current,
        )
        sm.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=pending["VersionId"]
        )
        assert group.deploy(releases.bundle("v1")).status == "Succeeded"
        assert secret_held_by(engine, container) == (new, old)
        for key in (old, new):
            assert_secret_only_in_the_site(engine, instance, key)
    finally:
        engine.docker("rm", "--force", container, check=False)
