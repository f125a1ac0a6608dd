"""The CodeDeploy hooks on their own: idempotence, and bad input refused with a reason."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import AwsStandIn
from tests.integration.test_rollout import instance_env
from tests.support.codedeploy import write_env_file
from tests.support.engine import Engine
from tests.support.servers import ROOT, free_port

pytestmark = [pytest.mark.engine, pytest.mark.emulator]

DIGEST = "sha256:" + "0" * 64
RUNTIME = ROOT / "src" / "cloudsite" / "runtime"


def bundle(tmp_path: Path) -> Path:
    """A deploy bundle as build.py writes it, naming an image nobody needs to pull."""
    root = tmp_path / "bundle"
    shutil.copytree(RUNTIME / "hooks", root / "hooks")
    shutil.copy(RUNTIME / "appspec.yml", root / "appspec.yml")
    (root / "image-uri").write_text(f"localhost:5000/cstest-c4-hooks@{DIGEST}\n")
    return root


def hook(
    engine: Engine, hooks: Path, event: str, *, env_file: Path, aws: AwsStandIn | None = None
) -> subprocess.CompletedProcess[str]:
    env = engine.script_env(
        **(aws.env if aws else {}),
        CLOUDSITE_ENV_FILE=str(env_file),
        LIFECYCLE_EVENT=event,
        DEPLOYMENT_ID="d-HOOKTEST1",
    )
    return subprocess.run(
        [str(hooks / f"{event}.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_application_stop_with_nothing_deployed_succeeds_again_and_again(
    engine: Engine, aws: AwsStandIn, tmp_path: Path
) -> None:
    hooks = bundle(tmp_path) / "hooks"
    values = instance_env(engine, aws, name="hooks-stop", port=free_port(), root=tmp_path)
    env_file = write_env_file(tmp_path / "env", values)
    for _ in range(2):
        result = hook(engine, hooks, "ApplicationStop", env_file=env_file)
        assert result.returncode == 0, result.stderr
        assert "no such container, nothing to stop" in result.stderr
    # Before user data ever ran (no env file at all), it still has nothing to do.
    result = hook(engine, hooks, "ApplicationStop", env_file=tmp_path / "missing")
    assert result.returncode == 0, result.stderr


def test_a_hook_without_the_instance_env_file_fails_with_the_reason(
    engine: Engine, tmp_path: Path
) -> None:
    result = hook(
        engine, bundle(tmp_path) / "hooks", "BeforeInstall", env_file=tmp_path / "missing"
    )
    assert result.returncode == 1
    assert f"error: {tmp_path / 'missing'}: missing or unreadable" in result.stderr
    assert "hint: user data writes it" in result.stderr


def test_a_secret_kept_as_a_plain_ssm_parameter_is_refused_before_anything_starts(
    engine: Engine, aws: AwsStandIn, tmp_path: Path
) -> None:
    path = "/cloudsite/cstest-leaky/"
    aws.client("ssm").put_parameter(Name=f"{path}DJANGO_SECRET_KEY", Value="plain", Type="String")
    values = instance_env(engine, aws, name="hooks-leaky", port=free_port(), root=tmp_path)
    values["CLOUDSITE_PARAMETER_PATH"] = path
    env_file = write_env_file(tmp_path / "env", values)
    result = hook(
        engine, bundle(tmp_path) / "hooks", "ApplicationStart", env_file=env_file, aws=aws
    )
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY: secrets belong in Secrets Manager" in result.stderr
    assert "plain" not in result.stdout + result.stderr
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
    assert values["CLOUDSITE_CONTAINER"] not in names
