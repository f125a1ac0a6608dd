"""Settings from SSM reach the container and nothing else (docs/security.md, finding 1).

The hooks run as root. A fake `aws` answers them with parameter names an attacker who can write
the stack's SSM path would choose; a fake `docker` records every call. Nothing here needs an
engine or an emulator: what is checked is what the hooks' shell does with what they read.
"""

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import ROOT

HOOKS = ROOT / "src" / "cloudsite" / "runtime" / "hooks"
PATH = "/cloudsite/cstest-hostile/"
KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cstest/key-AbCdEf"
DB_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cstest/db-AbCdEf"

# Answers `ssm get-parameters-by-path` with $FAKE_PARAMETERS, and Secrets Manager as RDS and
# the template set it up: a key with no rotation in progress, and the database's secret.
FAKE_AWS = f"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write("aws " + " ".join(args[:2]) + "\\n")
if args[:2] == ["ssm", "get-parameters-by-path"]:
    print(os.environ["FAKE_PARAMETERS"])
elif args[:2] == ["secretsmanager", "get-secret-value"]:
    arn = args[args.index("--secret-id") + 1]
    if "--version-stage" in args:
        sys.stderr.write("An error occurred (ResourceNotFoundException)\\n")
        sys.exit(254)
    if arn == "{KEY_ARN}":
        print("cstest-key-" + "k" * 40)
    else:
        print(json.dumps({{"username": "site", "password": "cstest-pw"}}))
else:
    sys.exit("fake aws: unexpected " + " ".join(args))
"""

FAKE_DOCKER = """#!/usr/bin/env bash
printf 'docker %s DOCKER_HOST=%s LD_PRELOAD=%s\\n' "$*" "${DOCKER_HOST:-}" "${LD_PRELOAD:-}" \
  >>"$FAKE_LOG"
"""


def parameters(**values: str) -> str:
    return json.dumps(
        {"Parameters": [{"Name": PATH + name, "Value": v} for name, v in values.items()]}
    )


@pytest.fixture
def world(tmp_path: Path) -> dict[str, str]:
    """An instance in a folder: its env file, a fake aws and docker first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env_file = tmp_path / "env"
    env_file.write_text(
        "\n".join(
            f"{k}={v}"
            for k, v in {
                "AWS_REGION": "eu-west-1",
                "CLOUDSITE_APP_PORT": "8001",
                "CLOUDSITE_APP_LOG_GROUP": "/cloudsite/cstest/app",
                "CLOUDSITE_PARAMETER_PATH": PATH,
                "CLOUDSITE_SECRET_KEY_ARN": KEY_ARN,
                "CLOUDSITE_DATABASE_SECRET_ARN": DB_ARN,
                "CLOUDSITE_CONTAINER": "cstest-web",
                "CLOUDSITE_STATE_DIR": str(tmp_path / "run"),
            }.items()
        )
        + "\n"
    )
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "CLOUDSITE_ENV_FILE": str(env_file),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_PARAMETERS": parameters(DJANGO_ALLOWED_HOSTS="example.org"),
        "STATE": str(tmp_path / "run"),
        "LOG": str(tmp_path / "calls.log"),
    }


def shell(world: dict[str, str], script: str) -> subprocess.CompletedProcess[str]:
    """SCRIPT after sourcing common.sh, as a hook does (set -euo pipefail)."""
    body = f"set -euo pipefail\nsource {HOOKS / 'common.sh'}\n{script}"
    return subprocess.run(
        ["bash", "-c", body], env=world, capture_output=True, text=True, timeout=60, check=False
    )


def calls(world: dict[str, str]) -> str:
    log = Path(world["LOG"])
    return log.read_text() if log.exists() else ""


HOSTILE = [
    ("DOCKER_HOST", "tcp://203.0.113.9:2375", "refused: DOCKER_HOST would change"),
    ("LD_PRELOAD", "/tmp/evil.so", "refused: LD_PRELOAD would change"),
    ("CLOUDSITE_DOCKER_NETWORK", "host", "refused: CLOUDSITE_DOCKER_NETWORK would change"),
    ("AWS_CONFIG_FILE", "/tmp/config", "refused: AWS_CONFIG_FILE would change"),
    ("BASH_ENV", "/tmp/evil.sh", "refused: BASH_ENV would change"),
    ("PATH", "/tmp", "refused: PATH would change"),
    ("HTTPS_PROXY", "http://203.0.113.9:3128", "refused: HTTPS_PROXY would change"),
    ("PYTHONPATH", "/tmp", "refused: PYTHONPATH would change"),
    ("http_proxy", "http://203.0.113.9:3128", "'http_proxy' is not a variable name"),
    ("DJANGO_SETTINGS_MODULE", "evil", "the image sets DJANGO_SETTINGS_MODULE"),
    ("DJANGO_SECRET_KEY", "plain", "secrets belong in Secrets Manager"),
    ("EDITOR", "vi", "not a setting the hooks hand over (only DJANGO_* and DATABASE_HOST"),
    ("DJANGO_ADMINS", "a\nLD_PRELOAD=/tmp/evil.so", "the value spans lines"),
]


@pytest.mark.parametrize(("name", "value", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_parameter_name_stops_application_start_before_docker_runs(
    world: dict[str, str], tmp_path: Path, name: str, value: str, reason: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(HOOKS, bundle / "hooks")
    (bundle / "image-uri").write_text(f"localhost:5000/cstest@sha256:{'0' * 64}\n")
    world["FAKE_PARAMETERS"] = parameters(DJANGO_ALLOWED_HOSTS="example.org", **{name: value})
    result = subprocess.run(
        [str(bundle / "hooks" / "ApplicationStart.sh")],
        env=world,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"error: SSM parameter {PATH}{name}: {reason}" in result.stderr
    assert f"error: SSM: the parameters under {PATH} are not usable" in result.stderr
    assert "hint: rename or delete that parameter" in result.stderr
    assert "docker" not in calls(world)  # never started, never asked
    assert value not in result.stderr or name == "CLOUDSITE_DOCKER_NETWORK"  # "host" is a word


def test_settings_reach_docker_through_a_private_env_file_and_never_the_hook_s_environment(
    world: dict[str, str],
) -> None:
    world["FAKE_PARAMETERS"] = parameters(
        DJANGO_ALLOWED_HOSTS="example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://example.org",
        DATABASE_HOST="db.internal",
        DATABASE_PORT="5433",
        DATABASE_NAME="site",
    )
    result = shell(
        world,
        """load_instance_env
read_settings
read_secrets
container_flags
env | cut -d= -f1 | sort >"$STATE/exported"
printf '%s\\n' "${RUN_FLAGS[@]}" >"$STATE/flags"
printf '%s\\n' "${SECRETS[@]}" | grep '^DATABASE_URL=' >"$STATE/url"
""",
    )
    assert result.returncode == 0, result.stderr
    state = Path(world["STATE"])
    exported = (state / "exported").read_text().split()
    for name in ("DJANGO_ALLOWED_HOSTS", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME"):
        assert name not in exported
    flags = (state / "flags").read_text().splitlines()
    env_file = state / "cstest-web.settings.env"
    assert flags[flags.index("--env-file") + 1] == str(env_file)
    assert "-e" not in flags
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert sorted(env_file.read_text().splitlines()) == [
        "DATABASE_HOST=db.internal",
        "DATABASE_NAME=site",
        "DATABASE_PORT=5433",
        "DJANGO_ALLOWED_HOSTS=example.org",
        "DJANGO_CSRF_TRUSTED_ORIGINS=https://example.org",
    ]
    # The database's address still builds DATABASE_URL, which travels with the secrets.
    url = (state / "url").read_text().strip()
    assert url == "DATABASE_URL=postgres://site:cstest-pw@db.internal:5433/site?sslmode=require"
    assert "cstest-pw" not in result.stderr


def test_a_second_read_replaces_the_env_file_and_keeps_it_private(world: dict[str, str]) -> None:
    state = Path(world["STATE"])
    state.mkdir()
    env_file = state / "cstest-web.settings.env"
    env_file.write_text("DJANGO_STALE=1\n")
    env_file.chmod(0o644)
    result = shell(world, "load_instance_env\nread_settings\n")
    assert result.returncode == 0, result.stderr
    assert env_file.read_text() == "DJANGO_ALLOWED_HOSTS=example.org\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_the_host_network_is_refused_with_the_instance_s_own_env_file(
    world: dict[str, str],
) -> None:
    script = "instance_defaults\nCLOUDSITE_DOCKER_NETWORK=host\nSETTINGS=()\ncontainer_flags\n"
    on_instance = {k: v for k, v in world.items() if k != "CLOUDSITE_ENV_FILE"}
    on_instance.update(CLOUDSITE_LOG_DRIVER="json-file", CLOUDSITE_STATE_DIR=world["STATE"])
    result = shell(on_instance, script)
    assert result.returncode == 1
    assert "error: CLOUDSITE_DOCKER_NETWORK=host: refused on an instance" in result.stderr
    # A test's (or a rehearsal's) own env file may still ask for it.
    result = shell({**on_instance, "CLOUDSITE_ENV_FILE": world["CLOUDSITE_ENV_FILE"]}, script)
    assert result.returncode == 0, result.stderr
