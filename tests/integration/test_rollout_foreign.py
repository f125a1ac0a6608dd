"""A project this repository did not write (Django's startproject), rolled out through the real
hooks behind HAProxy under load, one instance at a time: v1 -> v2 with no failed request, the
same proof the reference site gets (test_rollout.py).

v2 differs from v1 by one file, as a user's next commit does: the release marker in a static
folder the project's settings name (the only edit made to the generated project).
"""

import time
from collections.abc import Iterator

import pytest

from tests.conftest import require
from tests.integration.conftest import SITE_HOST, AwsStandIn, Releases
from tests.integration.test_rollout import new_instance, released
from tests.support.codedeploy import DeploymentGroup
from tests.support.corpus import startproject
from tests.support.edges import available, load_balancer
from tests.support.engine import Engine
from tests.support.images import MARKER
from tests.support.load import LoadGenerator

pytestmark = [pytest.mark.engine, pytest.mark.emulator, pytest.mark.network]
PAGE = "/admin/login/"  # startproject has no "/" of its own: with DEBUG off it is a 404


@pytest.fixture(scope="module")
def foreign(
    engine: Engine,
    registry: str,
    build_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> Releases:
    base = startproject(tmp_path_factory.mktemp("foreign") / "mysite")
    settings = base / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nSTATICFILES_DIRS = [BASE_DIR / "static"]\n')
    (base / "static").mkdir()
    return Releases(
        engine, env=build_env, registry=registry, tmp=tmp_path_factory.mktemp("frel"),
        figures=figures, project=base,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fleet(
    engine: Engine, aws: AwsStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeploymentGroup]:
    require(available("haproxy"), "HAProxy (Debian's haproxy)")
    tmp = tmp_path_factory.mktemp("ffleet")
    with load_balancer(tmp, deregistration_delay=5) as lb:
        group = DeploymentGroup(
            application="foreign", name="foreign-web", env=engine.script_env(**aws.env),
            load_balancer=lb,
        )  # fmt: skip
        try:
            for name in ("fa", "fb"):
                group.add(new_instance(engine, aws, tmp / name, name=name))
            yield group
        finally:
            for instance in group.instances:
                engine.docker("rm", "--force", engine.name(instance.name), check=False)


def test_a_startproject_rolls_out_v1_to_v2_one_instance_at_a_time_failing_no_request(
    fleet: DeploymentGroup, foreign: Releases, figures: list[str]
) -> None:
    assert MARKER.startswith("static/")
    first = fleet.deploy(foreign.bundle("v1"))
    assert first.status == "Succeeded", first.failure
    assert fleet.load_balancer is not None
    assert [released(i) for i in fleet.instances] == ["v1", "v1"]
    with LoadGenerator(port=fleet.load_balancer.port, host=SITE_HOST, page=PAGE) as load:
        time.sleep(1)
        deployment = fleet.deploy(foreign.bundle("v2"))
        time.sleep(1)
    figures.append(f"startproject rollout v1 -> v2: {load.report.summary()}")
    assert deployment.status == "Succeeded", deployment.failure
    order = [(i, e) for i, e, _ in deployment.events if e in ("BlockTraffic", "AllowTraffic")]
    assert order == [
        ("fa", "BlockTraffic"), ("fa", "AllowTraffic"),
        ("fb", "BlockTraffic"), ("fb", "AllowTraffic"),
    ]  # fmt: skip
    assert load.report.failures == 0, load.report.failure_samples
    assert load.report.requests > 100
    assert load.report.releases["v1"] > 0 and load.report.releases["v2"] > 0
    assert [released(i) for i in fleet.instances] == ["v2", "v2"]


def test_the_two_releases_differ_by_the_one_file_the_user_changed(foreign: Releases) -> None:
    one, two = foreign.source("v1"), foreign.source("v2")
    differing = [
        p.relative_to(one).as_posix()
        for p in sorted(one.rglob("*"))
        if p.is_file() and p.read_bytes() != (two / p.relative_to(one)).read_bytes()
    ]
    assert differing == [MARKER]
