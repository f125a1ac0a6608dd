"""`cloudsite manage` on AWS (aws/manage.py) against moto's server, with the stack `up` made:
Run Command runs for real through tests/support/ssm_agent.py (the SSM agent's stand-in, which
runs the stack's document with tests/support/instance/manage.sh as the instance's script),
its output streams from CloudWatch Logs, and the exit status, the one-off parameter, Ctrl-C,
the wait's bound, bad input, the terminal path (a fake session-manager-plugin), the history
`status` shows and `down`'s clean-up are checked."""

import io
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from cloudsite.aws import Aws, manage
from cloudsite.aws.stack import StackState
from cloudsite.aws.status import status_gather, status_lines
from cloudsite.aws.waits import Clock
from cloudsite.errors import OperationError, UsageError, WaitTimeout
from cloudsite.outputs import Output
from tests.cli.conftest import invoke
from tests.cli.stubs import FakeClock
from tests.cli.test_emulator import STACK
from tests.cli.test_emulator import site as site  # the fixture: a startproject, here
from tests.support.moto import aws_env
from tests.support.ssm_agent import Agent

pytestmark = pytest.mark.emulator
INSTANCE = Path(__file__).parent.parent / "support" / "instance"
PASSWORD = "pw-6c1f0e9a-never-shown"  # the secret the tests hunt for
SUPERUSER = {"DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
FAST = Clock(poll=0.05)


@dataclass
class Deployed:
    aws: Aws
    state: StackState
    agent: Agent
    folder: Path  # the instance's own folder: fake_manage.py, its pid, the argv it saw


@pytest.fixture
def deployed(site: Path, aws: str, tmp_path: Path) -> Iterator[Deployed]:
    """The stack, `up` in moto, with the agent stand-in on its instances."""
    result = invoke("up", "--yes", "--detach")
    assert result.exit_code == 0, result.stderr
    session = Aws(session=boto3.Session(), region="us-east-1")
    state = manage.site_ready(session, STACK)
    folder = tmp_path / "instance"
    folder.mkdir()
    script = folder / "manage.sh"
    shutil.copy(INSTANCE / "manage.sh", script)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    shutil.copy(INSTANCE / "fake_manage.py", folder / "fake_manage.py")
    env = {
        **aws_env(aws),
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "CLOUDSITE_STACK": STACK,
        "CLOUDSITE_MANAGE_LOG_GROUP": state.outputs[Output.MANAGE_LOG_GROUP_NAME],
        "CLOUDSITE_TEST_DIR": str(folder),
    }
    agent = Agent(script=script, env=env, workdir=tmp_path / "agent").attach()
    yield Deployed(aws=session, state=state, agent=agent, folder=folder)
    agent.wait()


def run(site: Deployed, *args: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, Any] = {"secrets": {}, "timeout": 600, "clock": FAST, **kwargs}
    code = manage.run(site.aws, site.state, list(args), out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def commands() -> list[dict[str, Any]]:
    return list(boto3.client("ssm").list_commands()["Commands"])


def oneoffs() -> list[str]:
    return manage.oneoff_left(boto3.client("ssm"), STACK)


def every_log_event(group: str) -> str:
    pages = boto3.client("logs").get_paginator("filter_log_events").paginate(logGroupName=group)
    return "\n".join(e["message"] for page in pages for e in page["events"])


def healthy(site: Deployed) -> set[str]:
    found = boto3.client("elbv2").describe_target_health(
        TargetGroupArn=site.state.outputs[Output.TARGET_GROUP_ARN]
    )["TargetHealthDescriptions"]
    return {t["Target"]["Id"] for t in found if t["TargetHealth"]["State"] == "healthy"}


def test_output_streams_whole_and_in_order_on_one_healthy_instance(deployed: Deployed) -> None:
    code, out, err = run(deployed, "emit", "100000")
    assert code == 0
    expected = "".join(f"{i:05d} {'x' * 93}\n" for i in range(1000))
    assert len(expected) == 100_000 and out == expected
    assert "emitted\n" in err and "manage.py emit 100000" in err
    [command] = commands()
    assert command["DocumentName"] == deployed.state.outputs[Output.MANAGE_DOCUMENT_NAME]
    assert command["InstanceIds"] == [min(healthy(deployed))]  # one instance, by its id
    assert command["CloudWatchOutputConfig"]["CloudWatchOutputEnabled"] is True
    invocation = boto3.client("ssm").get_command_invocation(
        CommandId=command["CommandId"], InstanceId=command["InstanceIds"][0]
    )
    assert len(invocation["StandardOutputContent"]) == 24_000  # why the output is streamed


def test_a_failing_commands_exit_status_passes_through(deployed: Deployed) -> None:
    code, out, err = run(deployed, "emit", "300", "3")
    assert code == 3
    assert out.count("\n") == 3 and "emitted" in err
    assert commands()[0]["Status"] == "Failed"


def test_a_command_past_its_timeout_exits_124(deployed: Deployed) -> None:
    code, out, _ = run(deployed, "sleep", "20", timeout=1)
    assert code == 124
    assert out == "working\n"


def test_superuser_values_live_in_a_parameter_for_the_run_alone(deployed: Deployed) -> None:
    code, out, _ = run(deployed, "createsuperuser", "--noinput", secrets=SUPERUSER)
    assert code == 0
    # the instance read the values from the parameter, which existed while the command ran
    assert out == f"Superuser created: admin ({len(PASSWORD)} chars)\n"
    assert oneoffs() == []
    [command] = commands()
    assert command["Parameters"]["secretParameter"][0].startswith(f"/cloudsite/{STACK}/oneoff/r-")
    assert PASSWORD not in json.dumps(command, default=str)
    assert PASSWORD not in every_log_event(deployed.state.outputs[Output.MANAGE_LOG_GROUP_NAME])
    seen = (deployed.folder / "argv").read_text()
    assert "fake_manage.py createsuperuser --noinput" in seen  # every process's argv
    assert PASSWORD not in seen


def test_the_parameter_goes_after_a_failed_command_too(deployed: Deployed) -> None:
    code, _, _ = run(deployed, "createsuperuser", "--noinput", "--fail", secrets=SUPERUSER)
    assert code == 1
    assert oneoffs() == []


class CtrlC(Clock):
    """Ctrl-C arrives once the command has started to work (its output reached us)."""

    def __init__(self, out: io.StringIO, site: Deployed) -> None:
        super().__init__(poll=0.05)
        self.out, self.site, self.parameters_seen = out, site, [""]

    def sleep(self, seconds: float) -> None:
        if "working" in self.out.getvalue():
            self.parameters_seen = oneoffs()
            raise KeyboardInterrupt
        super().sleep(seconds)


def test_ctrl_c_cancels_the_command_and_deletes_the_parameter(deployed: Deployed) -> None:
    out, err = io.StringIO(), io.StringIO()
    clock = CtrlC(out, deployed)
    with pytest.raises(KeyboardInterrupt):
        manage.run(
            deployed.aws,
            deployed.state,
            ["sleep", "60"],
            secrets=SUPERUSER,
            timeout=600,
            out=out,
            err=err,
            clock=clock,
        )
    assert len(clock.parameters_seen) == 1  # it existed during the run
    assert oneoffs() == []
    deployed.agent.wait()
    assert commands()[0]["Status"] == "Cancelled"
    pid = int((deployed.folder / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class Jumps(Clock):
    """Time that runs 400 s a poll."""

    t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += 400
        super().sleep(seconds)


def test_past_the_bound_the_wait_cancels_the_command_and_says_so(deployed: Deployed) -> None:
    with pytest.raises(WaitTimeout) as caught:
        run(deployed, "sleep", "60", timeout=600, clock=Jumps(poll=0.05))
    assert caught.value.exit_code == 1
    assert "was cancelled on i-" in caught.value.why
    deployed.agent.wait()
    assert commands()[0]["Status"] == "Cancelled"


def test_bad_input_exits_2_before_anything_runs(deployed: Deployed) -> None:
    with pytest.raises(UsageError) as empty:
        run(deployed, secrets=SUPERUSER)
    assert empty.value.exit_code == 2 and "no command to run" in empty.value.why
    elbv2 = boto3.client("elbv2")
    arn = deployed.state.outputs[Output.TARGET_GROUP_ARN]
    elbv2.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": i} for i in healthy(deployed)])
    with pytest.raises(UsageError) as none:
        run(deployed, "migrate", secrets=SUPERUSER)
    assert "no healthy instance" in none.value.why and "cloudsite status" in none.value.hint
    with pytest.raises(UsageError) as missing:
        manage.site_ready(deployed.aws, "nosuchsite")
    assert missing.value.why == "is not deployed" and "cloudsite up" in missing.value.hint
    assert commands() == [] and oneoffs() == []


def plugin(folder: Path) -> Path:
    """A session-manager-plugin that records how it was called and what it was given, then
    waits for the session's end as the real one does (the real one needs AWS)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "session-manager-plugin"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, pathlib, sys, time\n"
        "response = json.loads(os.environ[sys.argv[1]])\n"
        "pathlib.Path(os.environ['PLUGIN_RECORD']).write_text(json.dumps("
        "{'argv': sys.argv, 'response': response}))\n"
        "done = pathlib.Path(os.environ['PLUGIN_SESSIONS'], response['SessionId'] + '.done')\n"
        "for _ in range(600):\n"
        "    if done.exists(): break\n"
        "    time.sleep(0.05)\n"
    )
    fake.chmod(0o755)
    return bin_dir


def test_a_terminal_session_gets_its_exit_status_from_the_run_record(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", f"{plugin(tmp_path)}:{os.environ['PATH']}")
    monkeypatch.setenv("PLUGIN_RECORD", str(tmp_path / "plugin.json"))
    monkeypatch.setenv("PLUGIN_SESSIONS", str(deployed.agent.sessions))
    args = ["createsuperuser", "--exit-7"]
    code = manage.session(
        deployed.aws, deployed.state, args, secrets=SUPERUSER, timeout=600, profile="", clock=FAST
    )
    assert code == 7  # manage.sh's record, not the plugin's own 0
    seen = json.loads((tmp_path / "plugin.json").read_text())
    argv = seen["argv"]
    assert argv[1:4] == [manage.RESPONSE_ENV, "us-east-1", "StartSession"]
    request = json.loads(argv[5])
    assert request["Target"] == min(healthy(deployed))
    assert request["DocumentName"] == deployed.state.outputs[Output.MANAGE_SESSION_DOCUMENT_NAME]
    assert argv[6] == boto3.client("ssm").meta.endpoint_url
    assert set(seen["response"]) == {"SessionId", "TokenValue", "StreamUrl"}
    assert seen["response"]["TokenValue"] not in " ".join(argv)
    assert PASSWORD not in json.dumps(seen)
    [terminal] = deployed.agent.sessions.glob("*.terminal")
    assert "Superuser created: admin" in terminal.read_text()
    assert "(terminal: 1)" in terminal.read_text()
    assert oneoffs() == []


def test_a_session_without_a_run_record_says_so_and_exits_1(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", f"{plugin(tmp_path)}:{os.environ['PATH']}")
    monkeypatch.setenv("PLUGIN_RECORD", str(tmp_path / "plugin.json"))
    monkeypatch.setenv("PLUGIN_SESSIONS", str(deployed.agent.sessions))
    (deployed.folder / "no-record").touch()
    with pytest.raises(OperationError) as caught:
        manage.session(
            deployed.aws,
            deployed.state,
            ["emit", "100"],
            secrets={},
            timeout=600,
            profile="",
            clock=FakeClock(poll=5),
        )
    assert caught.value.exit_code == 1 and "its exit status is unknown" in caught.value.why


def test_without_the_plugin_a_terminal_exits_2_and_starts_no_session(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(UsageError) as caught:
        manage.session(
            deployed.aws,
            deployed.state,
            ["shell"],
            secrets=SUPERUSER,
            timeout=600,
            profile="",
            clock=FAST,
        )
    assert caught.value.exit_code == 2 and "session-manager-plugin" in caught.value.why
    assert any(line.startswith("Debian/Ubuntu: ") for line in caught.value.details)
    assert any(line.startswith("macOS: ") for line in caught.value.details)
    assert any(line.startswith("Amazon Linux") for line in caught.value.details)
    assert not deployed.agent.sessions.exists() and oneoffs() == []


def test_history_and_status_list_the_runs_newest_first(deployed: Deployed) -> None:
    assert manage.history(deployed.aws, deployed.state) == []
    assert run(deployed, "emit", "100")[0] == 0
    assert run(deployed, "emit", "100", "4")[0] == 4
    found = manage.history(deployed.aws, deployed.state)
    instance = min(healthy(deployed))
    assert [(r["command"], r["instance"], r["exit"]) for r in found] == [
        ("emit 100 4", instance, 4),
        ("emit 100", instance, 0),
    ]
    report = status_gather(deployed.aws, STACK)
    assert report["runs"]["items"] == found
    lines = [line for line in status_lines(report) if instance in line and "emit" in line]
    assert len(lines) == 2 and lines[0].startswith("runs ") and "exit 4" in lines[0]


def test_down_deletes_a_one_off_parameter_a_crashed_run_left(deployed: Deployed) -> None:
    name = manage.oneoff_name(STACK, "r-20260101t000000-0badc0de")
    boto3.client("ssm").put_parameter(Name=name, Value="{}", Type="SecureString")
    result = invoke("down", "--yes")
    assert result.exit_code == 0, result.stderr
    assert oneoffs() == []
    assert f"deleted the one-off parameter {name}" in result.stderr


def test_the_manage_verb_streams_and_exits_with_the_commands_status(deployed: Deployed) -> None:
    result = invoke("manage", "--", "emit", "3000", "3")
    assert result.exit_code == 3, result.stderr
    assert result.stdout == "".join(f"{i:05d} {'x' * 93}\n" for i in range(30))
    assert "manage.py emit 3000 3 on i-" in result.stderr
    assert '"exit": 3' in runs_text(deployed)
    logs = invoke("logs", "manage", "--since", "1h")
    assert logs.exit_code == 0 and '"command": "emit 3000 3"' in logs.stdout


def runs_text(site: Deployed) -> str:
    return every_log_event(site.state.outputs[Output.MANAGE_LOG_GROUP_NAME])


def test_the_manage_verb_takes_superuser_values_from_the_environment_alone(
    deployed: Deployed,
) -> None:
    env = {**SUPERUSER, "DJANGO_SUPERUSER_EMAIL": "admin@example.com"}
    result = invoke("manage", "createsuperuser", "--noinput", env=env)
    assert result.exit_code == 0, result.stderr
    assert f"Superuser created: admin ({len(PASSWORD)} chars)" in result.stdout
    assert "no database: the command runs" in result.stderr  # this stack was made without one
    assert oneoffs() == []
    [command] = commands()
    assert PASSWORD not in json.dumps(command, default=str)
    assert PASSWORD not in (deployed.folder / "argv").read_text()
    assert PASSWORD not in runs_text(deployed) + result.stdout + result.stderr


def test_createsuperuser_without_a_terminal_or_a_password_exits_2_and_sends_nothing(
    deployed: Deployed,
) -> None:
    result = invoke("createsuperuser", "--username", "admin")
    assert result.exit_code == 2
    assert "the password needs a terminal" in result.stderr
    assert "DJANGO_SUPERUSER_PASSWORD" in result.stderr
    assert commands() == [] and oneoffs() == []
    made = invoke("createsuperuser", "--username", "ops", env={"DJANGO_SUPERUSER_PASSWORD": "x1"})
    assert made.exit_code == 0, made.stderr
    assert "Superuser created: ops (2 chars)" in made.stdout


def test_the_manage_verb_refuses_bad_input_before_any_remote_call(deployed: Deployed) -> None:
    empty = invoke("manage")
    assert empty.exit_code == 2 and "no command to run" in empty.stderr
    assert "hint:" in empty.stderr
    gone = invoke("manage", "--name", "nosuchsite", "migrate")
    assert gone.exit_code == 2 and "stack nosuchsite: is not deployed" in gone.stderr
    assert commands() == []
