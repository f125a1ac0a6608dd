"""The README's first path, in a folder that holds nothing but `django-admin startproject
mysite .`, offline:

    cloudsite init     finds the project, writes cloudsite.toml
    cloudsite build    the production image, with podman
    cloudsite up       (against the emulator) ships a source zip; that zip's own buildspec,
                       run by the CodeBuild stand-in, pushes the image and writes the bundle;
                       the hooks deploy the bundle with the settings and secret the stack made
"""

import io
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudsite.outputs import SOURCE_OBJECT_KEY, STACK_TAG, Output
from cloudsite.project.image import unpack
from tests.integration.conftest import REGION, AwsStandIn
from tests.integration.test_image import http_get
from tests.integration.test_rollout import instance_env
from tests.support.codebuild import codebuild_env, run_build
from tests.support.codedeploy import DeploymentGroup, Instance, write_env_file
from tests.support.corpus import startproject
from tests.support.engine import Engine
from tests.support.servers import ROOT, free_port

pytestmark = [pytest.mark.engine, pytest.mark.emulator]
CLOUDSITE = str(ROOT / ".venv" / "bin" / "cloudsite")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return startproject(tmp_path_factory.mktemp("yours") / "mysite")


def cli(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLOUDSITE, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


@pytest.fixture(scope="module")
def taught(aws: AwsStandIn) -> AwsStandIn:
    """The emulator the CLI's own tests use: moto taught the stack's resource types."""
    from tests.cli.emulator import teach

    teach()
    return aws


def test_init_finds_the_project_and_writes_cloudsite_toml(folder: Path, engine: Engine) -> None:
    result = cli(folder, "init", env=engine.script_env())
    assert result.returncode == 0, result.stderr
    assert "settings       mysite.settings  (from manage.py)" in result.stdout
    assert "application    mysite.wsgi:application  (WSGI, from WSGI_APPLICATION)" in result.stdout
    written = (folder / "cloudsite.toml").read_text()
    # startproject's admin, auth and sessions write: init asks for a database, and says why
    assert 'name = "mysite"' in written and "\ndatabase = true\n" in written
    assert "database = true: admin, auth, sessions write at run time" in result.stderr
    again = cli(folder, "init", env=engine.script_env())
    assert "cloudsite.toml exists: left as it is" in again.stderr
    assert (folder / "cloudsite.toml").read_text() == written
    # The rest of this path deploys to hooks with no PostgreSQL to reach (the corpus and the
    # local rehearsals deploy with one): the user turns it off, as the warning allows.
    (folder / "cloudsite.toml").write_text(written.replace("database = true", "database = false"))


def test_build_makes_the_production_image_with_podman(
    folder: Path, engine: Engine, build_env: dict[str, str]
) -> None:
    result = cli(
        folder,
        "build",
        "--tag",
        "yours",
        env=engine.script_env(**build_env, CLOUDSITE_ENGINE="podman"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "mysite:yours"
    assert "ok: built mysite:yours: " in result.stderr and " MB in " in result.stderr
    assert engine.docker("image", "inspect", "localhost/mysite:yours", check=False).returncode == 0


@pytest.fixture(scope="module")
def shipped(folder: Path, engine: Engine, taught: AwsStandIn) -> Iterator[dict[str, str]]:
    """`cloudsite up --yes --detach` against the emulator; the stack's outputs."""
    env = engine.script_env(**taught.env, CLOUDSITE_REGION=REGION, CLOUDSITE_POLL_SECONDS="0.05")
    result = cli(folder, "up", "--yes", "--detach", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    stack = taught.client("cloudformation").describe_stacks(StackName="mysite")["Stacks"][0]
    yield {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    cli(folder, "down", "--yes", env=env)


def test_up_ships_a_zip_whose_buildspec_makes_a_bundle_the_hooks_deploy(
    shipped: dict[str, str],
    taught: AwsStandIn,
    engine: Engine,
    registry: str,
    build_env: dict[str, str],
    tmp_path: Path,
) -> None:
    body = (
        taught.client("s3")
        .get_object(Bucket=shipped[Output.SOURCE_BUCKET_NAME], Key=SOURCE_OBJECT_KEY)["Body"]
        .read()
    )
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "manage.py" in names and ".cloudsite/runtime/buildspec.yml" in names
    source = tmp_path / "codebuild"
    unpack(body, source)
    # The CodeBuild stand-in runs the buildspec the zip carries, as the template's project does.
    repository = f"{registry}/{engine.name('yours')}"
    env = engine.script_env(**taught.env, **build_env, CLOUDSITE_ECR_REPOSITORY_URI=repository)
    env.update(codebuild_env(source=source, region=REGION, revision="v1", build_number=1))
    build = run_build(
        source / ".cloudsite" / "runtime" / "buildspec.yml",
        source=source,
        env=env,
        output=tmp_path / "out",
    )
    assert build.status == "SUCCEEDED", build.log[-4000:]
    assert build.artifacts is not None
    # The hooks deploy the bundle with what the stack made: its SSM settings and its key.
    secrets = taught.client("secretsmanager").list_secrets()["SecretList"]
    key = next(
        s["ARN"] for s in secrets if {"Key": STACK_TAG, "Value": "mysite"} in s.get("Tags", [])
    )
    port = free_port()
    values = instance_env(engine, taught, name="yours", port=port, root=tmp_path / "instance")
    values.update(CLOUDSITE_PARAMETER_PATH="/cloudsite/mysite/", CLOUDSITE_SECRET_KEY_ARN=key)
    env_file = write_env_file(tmp_path / "instance" / "etc" / "cloudsite" / "env", values)
    instance = Instance(name="yours", root=tmp_path / "instance", port=port, env_file=env_file)
    group = DeploymentGroup(
        application="mysite", name="mysite", env=engine.script_env(**taught.env)
    )
    group.add(instance)
    try:
        deployment = group.deploy(build.artifacts)
        assert deployment.status == "Succeeded", deployment.failure
        host = shipped[Output.LOAD_BALANCER_DNS_NAME]  # the stack's DJANGO_ALLOWED_HOSTS
        assert http_get(f"http://127.0.0.1:{port}/healthz", host="10.0.3.7")[0] == 200
        status, page = http_get(f"http://127.0.0.1:{port}/admin/login/", host=host)
        assert status == 200 and b"Django administration" in page
        assert http_get(f"http://127.0.0.1:{port}/admin/login/", host="other.example")[0] == 400
    finally:
        engine.docker("rm", "--force", engine.name("yours"), check=False)
