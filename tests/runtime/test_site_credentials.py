"""The site role's credentials, as the hooks hand them to the containers (common.sh's
site_credentials, docs/data.md): assumed with the real AWS CLI against moto's STS, written in
credential_process's form for the container's user alone, read by botocore as refreshable
credentials, renewed only when under 40 minutes are left, and never printed."""

import datetime
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.moto import aws_env, moto_server
from tests.support.servers import ROOT

pytestmark = pytest.mark.emulator
HOOKS = ROOT / "src" / "cloudsite" / "runtime" / "hooks"
VENV_BIN = ROOT / ".venv" / "bin"  # the real AWS CLI the hooks call


@pytest.fixture(scope="module")
def sts() -> Any:
    with moto_server() as endpoint:
        env = aws_env(endpoint)
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        role = iam.create_role(RoleName="cstest-site", AssumeRolePolicyDocument="{}")
        yield env, role["Role"]["Arn"]


def run(tmp_path: Path, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    script = f'source "{HOOKS}/common.sh"; RUN_FLAGS=(); _media_flags; '
    script += 'printf "%s\\n" "${RUN_FLAGS[@]}"'
    return subprocess.run(
        ["bash", "-c", script],
        env={
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            **env,
            "CLOUDSITE_STATE_DIR": str(tmp_path / "run"),
            "CLOUDSITE_CONTAINER": "cloudsite-web",
            "CLOUDSITE_STACK": "cstest",
            "CLOUDSITE_MEDIA_BUCKET": "cstest-media",
            **extra,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_site_role_is_assumed_and_its_credentials_are_for_the_container_alone(
    tmp_path: Path, sts: Any
) -> None:
    env, role = sts
    result = run(tmp_path, env, CLOUDSITE_SITE_ROLE_ARN=role)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "run" / "cloudsite-web.aws"
    document = json.loads((folder / "credentials.json").read_text())
    assert sorted(document) == [
        "AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"
    ]  # fmt: skip
    assert document["Version"] == 1
    left = datetime.datetime.fromisoformat(document["Expiration"].replace("Z", "+00:00"))
    assert 50 * 60 < (left - datetime.datetime.now(datetime.UTC)).total_seconds() <= 3600
    assert document["SecretAccessKey"] not in result.stdout + result.stderr
    flags = result.stdout.splitlines()
    assert f"{folder}:/run/cloudsite-aws:ro" in flags
    for flag in (
        "AWS_CONFIG_FILE=/run/cloudsite-aws/config",
        "AWS_EC2_METADATA_DISABLED=true",
        "AWS_STORAGE_BUCKET_NAME=cstest-media",
        "AWS_S3_REGION_NAME=us-east-1",
    ):
        assert flag in flags, flags
    assert not any(flag.startswith("AWS_S3_ENDPOINT_URL") for flag in flags)  # on AWS: S3's own
    assert (folder / "config").read_text() == (
        "[default]\ncredential_process = cat /run/cloudsite-aws/credentials.json\n"
    )
    if os.geteuid() == 0:  # the hooks run as root on an instance
        for path, mode in ((folder, 0o500), (folder / "credentials.json", 0o400)):
            info = path.stat()
            assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (10001, 10001, mode)


def test_botocore_reads_them_as_refreshable_credentials(tmp_path: Path, sts: Any) -> None:
    env, role = sts
    assert run(tmp_path, env, CLOUDSITE_SITE_ROLE_ARN=role).returncode == 0
    folder = tmp_path / "run" / "cloudsite-web.aws"
    # the container's config, with the file where the host keeps it
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = cat {folder / 'credentials.json'}\n")
    import botocore.credentials
    import botocore.session

    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    credentials = session.get_credentials()
    assert isinstance(credentials, botocore.credentials.RefreshableCredentials)
    assert credentials.method == "custom-process"
    written = json.loads((folder / "credentials.json").read_text())
    assert credentials.get_frozen_credentials().access_key == written["AccessKeyId"]


def test_they_are_renewed_only_when_under_40_minutes_are_left(tmp_path: Path, sts: Any) -> None:
    env, role = sts
    file = tmp_path / "run" / "cloudsite-web.aws" / "credentials.json"
    assert run(tmp_path, env, CLOUDSITE_SITE_ROLE_ARN=role).returncode == 0
    first = file.read_text()
    assert run(tmp_path, env, CLOUDSITE_SITE_ROLE_ARN=role).returncode == 0
    assert file.read_text() == first  # 59 minutes left: kept
    soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=30)).isoformat()
    os.chmod(file, 0o600)
    file.write_text(json.dumps({**json.loads(first), "Expiration": soon}))
    assert run(tmp_path, env, CLOUDSITE_SITE_ROLE_ARN=role).returncode == 0
    renewed = json.loads(file.read_text())
    assert (
        renewed["Expiration"] != soon and renewed["AccessKeyId"] != json.loads(first)["AccessKeyId"]
    )


def test_a_media_bucket_without_a_role_or_a_credentials_file_is_refused(
    tmp_path: Path, sts: Any
) -> None:
    env, _ = sts
    result = run(tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-2] == (
        "error: site role: the site's own AWS calls (media, the queue) need "
        "CLOUDSITE_SITE_ROLE_ARN, and it is not set"
    )
    assert not list((tmp_path / "run" / "cloudsite-web.aws").iterdir())  # nothing half-made
