"""The user data: shellcheck-clean, a dry run that prints its steps, and a real run (in a
private mount namespace, against stub commands) that is idempotent and signals failure."""

import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.support.servers import ROOT
from tests.template.cfn import Json
from tests.template.test_compute import minutes
from tests.template.user_data import (
    DATABASE_SECRET,
    MEDIA_BUCKET,
    QUEUE_URL,
    REDIS_ADDRESS,
    REDIS_SECRET,
    SAMPLE_VALUES,
    SITE_ROLE,
    render_user_data,
    source,
)

ENV_FILE_KEYS = [
    "CLOUDSITE_STACK",
    "AWS_REGION",
    "CLOUDSITE_APP_PORT",
    "CLOUDSITE_APP_LOG_GROUP",
    "CLOUDSITE_PARAMETER_PATH",
    "CLOUDSITE_SECRET_KEY_ARN",
    "CLOUDSITE_DATABASE_SECRET_ARN",
    "CLOUDSITE_MEDIA_BUCKET",
    "CLOUDSITE_SITE_ROLE_ARN",
    "CLOUDSITE_BROKER",
    "CLOUDSITE_QUEUE_URL",
    "CLOUDSITE_REDIS_ADDRESS",
    "CLOUDSITE_REDIS_SECRET_ARN",
    "CLOUDSITE_TASK_TIMEOUT",
    "CLOUDSITE_MANAGE_LOG_GROUP",
    "CLOUDSITE_INSTANCE_ID",
]


def test_user_data_refers_only_to_names_the_template_defines(template: Json) -> None:
    script, variables = source(template)
    names = set(re.findall(r"\$\{([^}!]+)\}", script))
    known = set(template["Parameters"]) | set(template["Resources"]) | set(variables)
    assert names - known == {"AWS::StackName", "AWS::Region", "AWS::URLSuffix"}


@pytest.mark.parametrize(
    ("database", "media", "broker"),
    [(False, False, ""), (True, True, "sqs"), (True, False, "redis")],
)
def test_user_data_is_shellcheck_clean(
    template: Json, database: bool, media: bool, broker: str
) -> None:
    script = render_user_data(
        template, database=database, media=media, broker=broker, redis=broker == "redis"
    )
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "shellcheck"), "--severity=style", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def dry_run(
    template: Json, tmp_path: Path, *, database: bool, media: bool = False, **background: Any
) -> tuple[str, str]:
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
        "aws",
        "docker",
        "timeout",
        "sleep",
    ):
        stub = stubs / command
        stub.write_text(f'#!/bin/sh\necho "{command} $*" >> {record}\nexit 1\n')
        stub.chmod(0o755)
    script = tmp_path / "user-data"
    script.write_text(render_user_data(template, database=database, media=media, **background))
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
        "timeout 150 dnf install -y docker ruby amazon-cloudwatch-agent aws-cfn-bootstrap",
        "write /etc/cloudsite/env mode 0600",
        "write /opt/aws/amazon-cloudwatch-agent/etc/cloudsite.json mode 0644",
        "timeout 30 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
        " -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/cloudsite.json",
        "timeout 30 systemctl enable --now docker",
        "timeout 100 curl -fsSL --connect-timeout 5 --max-time 30 --retry 2"
        " -o /tmp/codedeploy-install"
        " https://aws-codedeploy-us-east-1.s3.us-east-1.amazonaws.com/latest/install",
        "chmod 0755 /tmp/codedeploy-install",
        "timeout 100 /tmp/codedeploy-install auto",
        "timeout 30 systemctl enable --now codedeploy-agent",
        "wait up to 480 s for LifecycleState InService",
        "wait up to 120 s for a healthy target in the load balancer",
        "timeout 60 /opt/aws/bin/cfn-signal --exit-code 0 --stack site --resource AutoScalingGroup"
        " --region us-east-1",
    ]
    assert steps == expected


# CodeDeploy's launch hook on the group (CodeDeploy-managed-automatic-launch-deployment-hook-*)
# has a HeartbeatTimeout of 600 s and DefaultResult ABANDON: describe-lifecycle-hooks shows it.
LAUNCH_HOOK_HEARTBEAT_SECONDS = 600
# What a fresh instance spends before cloud-init runs the user data (boot, network, cloud-init).
BOOT_ALLOWANCE_SECONDS = 60


def bounds(steps: list[str]) -> list[tuple[str, int]]:
    """(step, worst-case seconds): a bounded step's timeout, a wait's limit, 0 for a local
    file operation. A step with none of these fails the test: every step must be bounded."""
    found = []
    for step in steps:
        bounded = re.match(r"^timeout (\d+) ", step) or re.match(r"^wait up to (\d+) s ", step)
        if bounded:
            found.append((step, int(bounded[1])))
        else:
            assert step.startswith(("write ", "chmod ")), f"unbounded step: {step}"
            found.append((step, 0))
    return found


def test_codedeploy_agent_runs_well_inside_the_launch_hooks_timeout(
    template: Json, tmp_path: Path
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=False)
    steps = [line[len("step: ") :] for line in stdout.splitlines() if line.startswith("step: ")]
    agent = steps.index("timeout 30 systemctl enable --now codedeploy-agent")
    # Ordering: the hooks the agent runs need the env file and Docker, so both come first.
    assert steps.index("write /etc/cloudsite/env mode 0600") < agent
    assert steps.index("timeout 30 systemctl enable --now docker") < agent
    worst = BOOT_ALLOWANCE_SECONDS + sum(s for _, s in bounds(steps[: agent + 1]))
    assert worst <= LAUNCH_HOOK_HEARTBEAT_SECONDS - 60, bounds(steps[: agent + 1])


def test_the_whole_bootstrap_fits_the_rolling_update_and_creation_waits(
    template: Json, tmp_path: Path
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=False)
    steps = [line[len("step: ") :] for line in stdout.splitlines() if line.startswith("step: ")]
    group = template["Resources"]["AutoScalingGroup"]
    pause = minutes(group["UpdatePolicy"]["AutoScalingRollingUpdate"]["PauseTime"]) * 60
    creation = minutes(group["CreationPolicy"]["ResourceSignal"]["Timeout"]) * 60
    worst = BOOT_ALLOWANCE_SECONDS + sum(s for _, s in bounds(steps))
    assert worst <= pause  # a new instance in a rolling update signals before PauseTime ends
    # At creation there is no launch hook yet: InService at once, and no release to check.
    waits = sum(s for step, s in bounds(steps) if step.startswith("wait "))
    assert worst - waits <= creation


@pytest.mark.parametrize(("database", "media"), [(False, False), (True, False), (True, True)])
def test_env_file_holds_exactly_the_interface_names_and_no_secret(
    template: Json, tmp_path: Path, database: bool, media: bool
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=database, media=media)
    env = dict(
        line.split("=", 1) for line in written_file(stdout, "/etc/cloudsite/env").splitlines()
    )
    assert list(env) == ENV_FILE_KEYS
    assert env["CLOUDSITE_STACK"] == "site"
    assert env["CLOUDSITE_PARAMETER_PATH"] == "/cloudsite/site/"
    assert env["CLOUDSITE_APP_LOG_GROUP"] == SAMPLE_VALUES["AppLogGroup"]
    assert env["CLOUDSITE_SECRET_KEY_ARN"] == SAMPLE_VALUES["DjangoSecretKey"]
    assert env["CLOUDSITE_DATABASE_SECRET_ARN"] == (DATABASE_SECRET if database else "")
    # Without media both are empty, so the hooks know there is no bucket and no role.
    assert env["CLOUDSITE_MEDIA_BUCKET"] == (MEDIA_BUCKET if media else "")
    assert env["CLOUDSITE_SITE_ROLE_ARN"] == (SITE_ROLE if media else "")
    # Without background work the broker, the queue and Valkey are empty too.
    assert [env[k] for k in ENV_FILE_KEYS[9:13]] == ["", "", "", ""]
    assert env["CLOUDSITE_TASK_TIMEOUT"] == "1800"
    assert env["CLOUDSITE_MANAGE_LOG_GROUP"] == SAMPLE_VALUES["ManageLogGroup"]
    assert env["CLOUDSITE_INSTANCE_ID"] == "i-dry-run"  # read only on a real instance


@pytest.mark.parametrize(
    ("media", "broker", "redis"),
    [(False, "sqs", False), (True, "sqs", True), (False, "redis", True), (False, "", True)],
)
def test_env_file_names_the_broker_the_queue_and_valkey_when_there_are_some(
    template: Json, tmp_path: Path, media: bool, broker: str, redis: bool
) -> None:
    stdout, _ = dry_run(template, tmp_path, database=True, media=media, broker=broker, redis=redis)
    env = dict(
        line.split("=", 1) for line in written_file(stdout, "/etc/cloudsite/env").splitlines()
    )
    assert list(env) == ENV_FILE_KEYS
    assert env["CLOUDSITE_BROKER"] == broker
    assert env["CLOUDSITE_QUEUE_URL"] == (QUEUE_URL if broker == "sqs" else "")
    assert env["CLOUDSITE_REDIS_ADDRESS"] == (REDIS_ADDRESS if redis else "")
    assert env["CLOUDSITE_REDIS_SECRET_ARN"] == (REDIS_SECRET if redis else "")
    # The site role signs the queue's calls too: it is there with media or the queue.
    assert env["CLOUDSITE_SITE_ROLE_ARN"] == (SITE_ROLE if media or broker == "sqs" else "")
    assert env["CLOUDSITE_TASK_TIMEOUT"] == "1800"


def test_user_data_gets_the_background_values_the_template_resolves(template: Json) -> None:
    """The Fn::Sub map hands the script names and addresses only, each empty without."""
    _, variables = source(template)
    assert variables["TaskBrokerInUse"] == {"Fn::If": ["HasBroker", {"Ref": "TaskBroker"}, ""]}
    assert variables["QueueUrlInUse"] == {"Fn::If": ["HasQueue", {"Ref": "TaskQueue"}, ""]}
    address = {
        "Host": {"Fn::GetAtt": ["Redis", "PrimaryEndPoint.Address"]},
        "Port": {"Fn::GetAtt": ["Redis", "PrimaryEndPoint.Port"]},
    }
    assert variables["RedisAddress"] == {
        "Fn::If": ["HasRedis", {"Fn::Sub": ["${Host}:${Port}", address]}, ""]
    }
    assert variables["RedisSecretArn"] == {"Fn::If": ["HasRedis", {"Ref": "RedisAuthSecret"}, ""]}
    assert variables["SiteRoleArn"] == {
        "Fn::If": ["HasSiteRole", {"Fn::GetAtt": ["SiteRole", "Arn"]}, ""]
    }


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
    # curl ... -o FILE URL: "downloads" an installer that records itself.
    "usr/local/sbin/curl": (
        'echo "curl $*" >> /tmp/calls\n'
        'while [ $# -gt 0 ]; do [ "$1" = -o ] && cp /usr/local/sbin/installer "$2"; shift; done'
    ),
    "usr/local/sbin/installer": (
        'echo "installer $*" >> /tmp/calls; touch /tmp/codedeploy-installed'
    ),
    # The AWS CLI answers the readiness questions from scripted lists, one line per call (the
    # last line repeats): /tmp/lifecycle for Auto Scaling, /tmp/health for the load balancer.
    "usr/local/sbin/aws": (
        'echo "aws $1 $2" >> /tmp/calls\n'
        'case "$1" in autoscaling) f=/tmp/lifecycle ;; *) f=/tmp/health ;; esac\n'
        'head -n 1 "$f"; [ "$(wc -l < "$f")" -gt 1 ] && sed -i 1d "$f"; true'
    ),
    # docker container inspect NAME: the site container exists once a release is deployed.
    "usr/local/sbin/docker": 'echo "docker $*" >> /tmp/calls; [ -f /tmp/released ]',
    "usr/local/sbin/sleep": 'echo "sleep $*" >> /tmp/calls',
    "opt/aws/bin/cfn-signal": 'echo "cfn-signal $*" >> /tmp/calls',
    "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl": (
        'echo "cw-agent $*" >> /tmp/calls'
    ),
    "var/lib/cloud/data/instance-id": "i-0123456789abcdef0",
}
PRIVATE = ["/etc/cloudsite", "/var/log", "/opt", "/usr/local/sbin", "/var/lib/cloud"]
# A new stack's instance: no launch hook yet, so it is InService at once, with no release.
NEW_STACK = {"lifecycle": ["InService"]}


def run_in_namespace(
    script: str,
    tmp_path: Path,
    *,
    runs: int,
    fail_dnf: bool = False,
    answers: dict[str, list[str]] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the user data for real, `runs` times, with /etc/cloudsite, /var/log, /var/lib/cloud,
    /opt, /tmp and /usr/local/sbin replaced by private empty filesystems: nothing it writes
    outlives it. `answers` scripts the AWS CLI ("lifecycle", "health") and, with "released",
    makes the site container exist."""
    answers = answers if answers is not None else NEW_STACK
    staged = tmp_path / "root"
    for path, body in STUBS.items():
        stub = staged / path
        stub.parent.mkdir(parents=True, exist_ok=True)
        if path.startswith("var/"):
            stub.write_text(body + "\n")
            continue
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    (staged / "usr/local/sbin/user-data").write_text(script)
    scripted = "\n".join(
        f"printf '%s\\n' {' '.join(lines)} > /tmp/{name}" for name, lines in answers.items()
    )
    inner = f"""
set -e
for d in {" ".join(PRIVATE)}; do mkdir -p $d; mount -t tmpfs none $d; done
cp -a {staged}/. /
mount -t tmpfs none /tmp
touch /tmp/lifecycle /tmp/health
{scripted}
{"touch /tmp/fail-dnf" if fail_dnf else ""}
status=0
for i in $(seq {runs}); do bash /usr/local/sbin/user-data || status=$?; done
echo "--- calls"; cat /tmp/calls
echo "--- env"; stat -c '%a %U' /etc/cloudsite/env 2>/dev/null && cat /etc/cloudsite/env
echo "--- log"; cat /var/log/cloudsite-bootstrap.log
exit $status
"""
    created = [Path(p) for p in ("/etc/cloudsite", "/var/lib/cloud") if not Path(p).exists()]
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
        for mount_point in created:  # the mount points themselves are made on the real disk
            with contextlib.suppress(OSError):  # another run may be using it right now
                mount_point.rmdir()


def calls_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.split("--- calls\n")[1].split("--- env")[0].splitlines()


@pytest.fixture(scope="module")
def namespaces() -> None:
    require(
        os.geteuid() == 0 and shutil.which("unshare") is not None,
        "root and unshare (mount namespaces)",
    )


@pytest.mark.usefixtures("namespaces")
def test_second_run_changes_nothing_and_both_signal_success(template: Json, tmp_path: Path) -> None:
    script = render_user_data(template, database=True, media=True)
    result = run_in_namespace(script, tmp_path, runs=2)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = calls_of(result)
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
    assert f"CLOUDSITE_MEDIA_BUCKET={MEDIA_BUCKET}\nCLOUDSITE_SITE_ROLE_ARN={SITE_ROLE}\n" in env
    # The instance id is read before the env file is written (for `cloudsite manage`).
    assert "CLOUDSITE_MANAGE_LOG_GROUP=/cloudsite/site/manage\n" in env
    assert env.endswith("CLOUDSITE_INSTANCE_ID=i-0123456789abcdef0\n")
    assert "bootstrap finished with status 0" in result.stdout.split("--- log")[1]


@pytest.mark.usefixtures("namespaces")
def test_a_failed_step_stops_the_bootstrap_and_signals_failure(
    template: Json, tmp_path: Path
) -> None:
    result = run_in_namespace(
        render_user_data(template, database=False), tmp_path, runs=1, fail_dnf=True
    )
    assert result.returncode != 0
    calls = calls_of(result)
    assert calls[-1].startswith("cfn-signal --exit-code 1 ")
    assert not any(c.startswith("systemctl") for c in calls), "nothing ran after the failure"


SIGNAL = "cfn-signal --exit-code {} --stack site --resource AutoScalingGroup --region us-east-1"


@pytest.mark.usefixtures("namespaces")
def test_a_new_stacks_instance_signals_once_in_service_without_waiting_for_a_release(
    template: Json, tmp_path: Path
) -> None:
    result = run_in_namespace(render_user_data(template, database=False), tmp_path, runs=1)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = calls_of(result)
    agent = calls.index("systemctl enable --now codedeploy-agent")
    assert calls[agent + 1 :] == [
        "aws autoscaling describe-auto-scaling-instances",
        "docker container inspect cloudsite-web",
        SIGNAL.format(0),
    ]
    assert "no release on this instance" in result.stdout


@pytest.mark.usefixtures("namespaces")
def test_a_launched_instance_signals_only_once_it_serves_the_release(
    template: Json, tmp_path: Path
) -> None:
    """CodeDeploy's launch hook holds it in Pending:Wait while it deploys the last good
    revision; the load balancer then checks it. The signal comes after both."""
    answers = {
        "lifecycle": ["Pending", "Pending:Wait", "Pending:Wait", "InService"],
        "health": ["initial", "initial", "healthy"],
        "released": [],
    }
    result = run_in_namespace(
        render_user_data(template, database=False), tmp_path, runs=1, answers=answers
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = calls_of(result)
    agent = calls.index("systemctl enable --now codedeploy-agent")
    waits = ["aws autoscaling describe-auto-scaling-instances", "sleep 10"] * 3
    waits += ["aws autoscaling describe-auto-scaling-instances"]
    waits += ["docker container inspect cloudsite-web"]
    waits += ["aws elbv2 describe-target-health", "sleep 10"] * 2
    waits += ["aws elbv2 describe-target-health"]
    assert calls[agent + 1 :] == [*waits, SIGNAL.format(0)]
    assert "a healthy target in the load balancer: healthy" in result.stdout


@pytest.mark.usefixtures("namespaces")
def test_an_instance_whose_release_failed_to_deploy_signals_failure_at_once(
    template: Json, tmp_path: Path
) -> None:
    """A failed deployment abandons the launch hook and the group terminates the instance."""
    answers = {"lifecycle": ["Pending:Wait", "Terminating:Wait"]}
    result = run_in_namespace(
        render_user_data(template, database=False), tmp_path, runs=1, answers=answers
    )
    assert result.returncode != 0
    calls = calls_of(result)
    assert calls[-1] == SIGNAL.format(1)
    assert not any(c.startswith("aws elbv2") for c in calls)
    assert "LifecycleState InService: the instance is Terminating:Wait" in result.stdout
