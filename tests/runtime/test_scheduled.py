"""manage.py cloudsite_scheduled, which every instance runs for each [schedule] run it is sent
(docs/background.md): through the layer, on the reference site's own manage.py, against a
real PostgreSQL database. One run per (name, scheduled time) whoever asks; a run that is still
going is not started twice; the command's exit status and a timeout are kept."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from cloudsite.schema import Process
from tests.support.layer import WANDERPAGE, layer_env
from tests.support.servers import fresh_database

pytestmark = [pytest.mark.postgres]
AT = "2026-12-08T03:00:00Z"
SLEEP = ("manage.py", "shell", "-c", "import time; time.sleep(4)")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    work = tmp_path_factory.mktemp("scheduled")
    processes = (Process("printer", "python -c 'print(\"from the printer process\")'"),)
    env = layer_env(WANDERPAGE, work, processes=processes, database=True)
    env["DJANGO_SECRET_KEY"] = "cstest-" + "k" * 50
    with fresh_database() as url:
        env["DATABASE_URL"] = url
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=WANDERPAGE, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr
        yield env


def start(env: dict[str, str], name: str, at: str, *words: str, instance: str = "i1",
          timeout: int = 60) -> subprocess.Popen[str]:  # fmt: skip
    command = [sys.executable, "manage.py", "cloudsite_scheduled", "--name", name, "--at", at]
    command += ["--timeout", str(timeout), "--", *words]
    return subprocess.Popen(
        command, cwd=WANDERPAGE, env={**env, "CLOUDSITE_INSTANCE_ID": instance},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> tuple[int, list[dict], str]:
    out, err = process.communicate(timeout=120)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return (
        process.returncode,
        [e for e in events if e.get("logger") == "cloudsite.deployments"],
        out + err,
    )


def rows(env: dict[str, str], name: str) -> list[list]:
    code = (
        "import json; from cloudsite.runtime.deployments.models import ScheduledRun as R; "
        f"print(json.dumps(list(R.objects.filter(name={name!r}).order_by('scheduled_at')"
        ".values_list('scheduled_at', 'instance', 'status', 'exit_code'))))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=WANDERPAGE, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_instances_sent_the_same_run_run_it_once(env: dict[str, str]) -> None:
    first = start(env, "check", AT, "manage.py", "check", instance="i1")
    second = start(env, "check", AT, "manage.py", "check", instance="i2")
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0]
    outcomes = sorted(events[-1]["outcome"] for _, events, _ in results)
    assert outcomes == ["elsewhere", "ok"]
    ((at, instance, status, code),) = rows(env, "check")
    assert (at, status, code) == (AT, "ok", 0)
    winner = next(e for _, events, _ in results for e in events if e.get("outcome") == "ok")
    assert instance == winner["instance"]


def test_a_run_still_going_is_not_started_twice(env: dict[str, str]) -> None:
    slow = start(env, "slow", "2026-12-08T03:00:00Z", *SLEEP)
    time.sleep(2)  # the first holds the entry's lock now
    code, events, _ = finish(start(env, "slow", "2026-12-08T03:01:00Z", "manage.py", "check"))
    assert code == 0 and events[-1]["outcome"] == "skipped"
    assert finish(slow)[0] == 0
    assert [(r[0], r[2]) for r in rows(env, "slow")] == [
        ("2026-12-08T03:00:00Z", "ok"),
        ("2026-12-08T03:01:00Z", "skipped"),
    ]
    # the next time, with nothing running, runs
    assert finish(start(env, "slow", "2026-12-08T03:02:00Z", "manage.py", "check"))[0] == 0


def test_the_command_s_exit_status_and_a_timeout_are_kept(env: dict[str, str]) -> None:
    failing = start(env, "fails", AT, "manage.py", "shell", "-c", "raise SystemExit(3)")
    assert finish(failing)[0] == 3
    slow = start(env, "late", AT, "manage.py", "shell", "-c", "import time; time.sleep(30)",
                 timeout=2)  # fmt: skip
    assert finish(slow)[0] == 124
    assert rows(env, "fails")[0][2:] == ["failed", 3]
    assert rows(env, "late")[0][2:] == ["timeout", 124]


def test_a_schedule_can_name_a_process_and_runs_its_command(env: dict[str, str]) -> None:
    code, _, output = finish(start(env, "print", AT, "printer"))
    assert code == 0, output
    assert "from the printer process" in output
    code, _, output = finish(start(env, "nothing", AT, "no_such_process"))
    assert code == 1
    assert "neither 'manage.py COMMAND' nor one of the release's processes (printer)" in output
