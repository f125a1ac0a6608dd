"""The user data: shellcheck-clean, a dry run that prints its steps, and a real run (in a
private mount namespace, against stub commands) that is idempotent and signals failure."""

import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require
from tests.support.servers import ROOT
from tests.template.cfn import Json
from tests.template.user_data import DATABASE_SECRET, SAMPLE_VALUES, render_user_data, source

ENV_FILE_KEYS = [
    "CLOUDSITE_STACK",
    "AWS_REGION",
    "CLOUDSITE_APP_PORT",
    "CLOUDSITE_APP_LOG_GROUP",
    "CLOUDSITE_PARAMETER_PATH",
    "CLOUDSITE_SECRET_KEY_ARN",
    "CLOUDSITE_DATABASE_SECRET_ARN",
]


def test_user_data_refers_only_to_names_the_template_defines(template: Json) -> None:
    script, variables = source(template)
    names = set(re.findall(r"\$\{([^}!]+)\}", script))
    known = set(template["Parameters"]) | set(template["Resources"]) | set(variables)
    assert names - known == {"AWS::StackName", "AWS::Region", "AWS::URLSuffix"}


@pytest.mark.parametrize("database", [False, True])
def test_user_data_is_shellcheck_clean(template: Json, database: bool) -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "shellcheck"), "--severity=style", "-"],
        input=render_user_data(template, database=database),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def dry_run(template: Json, tmp_path: Path, *, database: bool) -> tuple[str, str]:
    """Run with --dry-run where every command that could change the machine is a stub that
    records its call; return (stdout, the stubs' record)."""
    stubs, record = tmp_path / "stubs", tmp_path / "calls"
    stubs.mkdir()
    for command in (
        "dnf",
        "rpm",
        "systemctl",
        "curl",
        "install",
        "mktemp",
        "mv",
        "chmod",
        "tee",
        "cat",
    ):
        stub = stubs / command
        stub.write_text(f'#!/bin/sh\necho "{command} $*" >> {record}\nexit 1\n')
        stub.chmod(0o755)
    script = tmp_path / "user-data"
    script.write_text(render_user_data(template, database=database))
    result = subprocess.run(
        ["bash", str(script), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{stubs}:/usr/bin:/bin"},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, record.read_text() if record.exists() else ""


def written_file(stdout: str, path: str) -> str:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"step: write {path} "))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("  | "):
            break
        body.append(line[4:])
    return "\n".join(body)


@pytest.mark.parametrize("database", [False, True])
def test_dry_run_prints_every_step_and_runs_none(
    template: Json, tmp_path: Path, database: bool
) -> None:
    stdout, calls = dry_run(template, tmp_path, database=database)
    assert calls == ""
    steps = [line[len("step: ") :] for line in stdout.splitlines() if line.startswith("step: ")]
    expected = [
        "dnf install -y docker ruby amazon-cloudwatch-agent aws-cfn-bootstrap",
        "write /etc/cloudsite/env mode 0600",
        "write /opt/aws/amazon-cloudwatch-agent/etc/cloudsite.json mode 0644",
        "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s"
        " -c file:/opt/aws/amazon-cloudwatch-agent/etc/cloudsite.json",
        "systemctl enable --now docker",
        "curl -fsSL --retry 5 -o /tmp/codedeploy-install"
        " https://aws-codedeploy-us-east-1.s3.us-east-1.amazonaws.com/latest/install",
        "chmod 0755 /tmp/codedeploy-install",
        "/tmp/codedeploy-install auto",
        "systemctl enable --now codedeploy-agent",
        "/opt/aws/bin/cfn-signal --exit-code 0 --stack site --resource AutoScalingGroup"
        " --region us-east-1",
    ]
    assert steps == expected


@pytest.mark.parametrize("database", [False, True])
def test_env_file_holds_exactly_the_interface_names_and_no_secret(
    template: Json, tmp_path: Path, database: bool
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=database)
    env = dict(
        line.split("=", 1) for line in written_file(stdout, "/etc/cloudsite/env").splitlines()
    )
    assert list(env) == ENV_FILE_KEYS
    assert env["CLOUDSITE_STACK"] == "site"
    assert env["CLOUDSITE_PARAMETER_PATH"] == "/cloudsite/site/"
    assert env["CLOUDSITE_APP_LOG_GROUP"] == SAMPLE_VALUES["AppLogGroup"]
    assert env["CLOUDSITE_SECRET_KEY_ARN"] == SAMPLE_VALUES["DjangoSecretKey"]
    assert env["CLOUDSITE_DATABASE_SECRET_ARN"] == (DATABASE_SECRET if database else "")


def test_cloudwatch_agent_ships_bootstrap_and_deploy_logs_to_the_stacks_groups(
    template: Json, tmp_path: Path
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=False)
    config = json.loads(written_file(stdout, "/opt/aws/amazon-cloudwatch-agent/etc/cloudsite.json"))
    files = config["logs"]["logs_collected"]["files"]["collect_list"]
    groups = {f["file_path"]: f["log_group_name"] for f in files}
    assert groups["/var/log/cloudsite-bootstrap.log"] == "/cloudsite/site/bootstrap"
    assert groups["/var/log/aws/codedeploy-agent/codedeploy-agent.log"] == "/cloudsite/site/deploy"


# Stand-ins for what a real instance has: each records its call in /tmp/calls.
STUBS = {
    "usr/local/sbin/dnf": 'echo "dnf $*" >> /tmp/calls; [ ! -f /tmp/fail-dnf ]',
    "usr/local/sbin/systemctl": 'echo "systemctl $*" >> /tmp/calls',
    "usr/local/sbin/rpm": "[ -f /tmp/codedeploy-installed ]",
    # curl -fsSL --retry 5 -o FILE URL: "downloads" an installer that records itself.
    "usr/local/sbin/curl": 'echo "curl $*" >> /tmp/calls; cp /usr/local/sbin/installer "$5"',
    "usr/local/sbin/installer": (
        'echo "installer $*" >> /tmp/calls; touch /tmp/codedeploy-installed'
    ),
    "opt/aws/bin/cfn-signal": 'echo "cfn-signal $*" >> /tmp/calls',
    "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl": (
        'echo "cw-agent $*" >> /tmp/calls'
    ),
}
PRIVATE = ["/etc/cloudsite", "/var/log", "/opt", "/usr/local/sbin"]


def run_in_namespace(
    script: str, tmp_path: Path, *, runs: int, fail_dnf: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the user data for real, `runs` times, with /etc/cloudsite, /var/log, /opt, /tmp and
    /usr/local/sbin replaced by private empty filesystems: nothing it writes outlives it."""
    staged = tmp_path / "root"
    for path, body in STUBS.items():
        stub = staged / path
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    (staged / "usr/local/sbin/user-data").write_text(script)
    inner = f"""
set -e
for d in {" ".join(PRIVATE)}; do mkdir -p $d; mount -t tmpfs none $d; done
cp -a {staged}/. /
mount -t tmpfs none /tmp
{"touch /tmp/fail-dnf" if fail_dnf else ""}
status=0
for i in $(seq {runs}); do bash /usr/local/sbin/user-data || status=$?; done
echo "--- calls"; cat /tmp/calls
echo "--- env"; stat -c '%a %U' /etc/cloudsite/env 2>/dev/null && cat /etc/cloudsite/env
echo "--- log"; cat /var/log/cloudsite-bootstrap.log
exit $status
"""
    mount_point = Path("/etc/cloudsite")
    created = not mount_point.exists()  # the mount point itself is made on the real disk
    try:
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", inner],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={"PATH": "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    finally:
        if created:
            with contextlib.suppress(OSError):  # another run may be using it right now
                mount_point.rmdir()


@pytest.fixture(scope="module")
def namespaces() -> None:
    require(
        os.geteuid() == 0 and shutil.which("unshare") is not None,
        "root and unshare (mount namespaces)",
    )


@pytest.mark.usefixtures("namespaces")
def test_second_run_changes_nothing_and_both_signal_success(template: Json, tmp_path: Path) -> None:
    result = run_in_namespace(render_user_data(template, database=True), tmp_path, runs=2)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = result.stdout.split("--- calls\n")[1].split("--- env")[0].splitlines()
    assert sum(c.startswith("installer auto") for c in calls) == 1, "the agent installs once"
    assert sum(c.startswith("curl ") for c in calls) == 1
    signals = [c for c in calls if c.startswith("cfn-signal")]
    assert (
        signals
        == ["cfn-signal --exit-code 0 --stack site --resource AutoScalingGroup --region us-east-1"]
        * 2
    )
    env = result.stdout.split("--- env\n")[1].split("--- log")[0]
    assert env.startswith("600 root\n")
    assert f"CLOUDSITE_DATABASE_SECRET_ARN={DATABASE_SECRET}" in env
    assert "bootstrap finished with status 0" in result.stdout.split("--- log")[1]


@pytest.mark.usefixtures("namespaces")
def test_a_failed_step_stops_the_bootstrap_and_signals_failure(
    template: Json, tmp_path: Path
) -> None:
    result = run_in_namespace(
        render_user_data(template, database=False), tmp_path, runs=1, fail_dnf=True
    )
    assert result.returncode != 0
    calls = result.stdout.split("--- calls\n")[1].split("--- env")[0].splitlines()
    assert calls[-1].startswith("cfn-signal --exit-code 1 ")
    assert not any(c.startswith("systemctl") for c in calls), "nothing ran after the failure"
