"""`cloudsite local manage` and `local createsuperuser` refuse before anything runs: no
command, nothing deployed, no password and no terminal; and what the two paths share
(cloudsite.runs) does what manage.sh expects."""

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from cloudsite import runs
from tests.cli.conftest import Recorder, invoke


def test_an_empty_command_is_refused_and_nothing_is_made(project: Path, recorder: Recorder) -> None:
    result = invoke("local", "manage", env=recorder.env)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: local manage: no command to run: give manage.py's arguments"
    assert lines[1].startswith("hint: e.g. `cloudsite local manage check --deploy`")
    assert not (project / ".cloudsite").exists()


def test_nothing_deployed_is_refused_with_a_hint(project: Path, recorder: Recorder) -> None:
    for args in (["local", "manage", "check"], ["local", "createsuperuser"]):
        result = invoke(*args, env=recorder.env)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.splitlines()[:2] == [
            "error: local manage: nothing is running here",
            "hint: run `cloudsite local up` first",
        ]


def test_arguments_travel_as_base64_of_a_json_array_and_come_back_whole() -> None:
    args = ["shell", "-c", "print('a b'); import os; os.system('$(id)')", "--", "ü"]
    encoded = runs.encode(args)
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded)
    assert json.loads(base64.b64decode(encoded)) == args
    assert runs.command_line(["migrate", "--plan"]) == "migrate --plan"


def test_a_terminal_opens_for_the_commands_that_ask_questions() -> None:
    def wants(*args: str, flag: bool | None = None, tty: bool = True) -> bool:
        return runs.wants_terminal(list(args), flag=flag, stdin_tty=tty)

    assert wants("shell") and wants("dbshell") and wants("createsuperuser")
    assert not wants("createsuperuser", "--noinput") and not wants("migrate")
    assert not wants("shell", tty=False)  # no terminal to give it
    assert wants("migrate", flag=True) and not wants("shell", flag=False)


def test_superuser_values_come_from_the_environment_for_createsuperuser_only() -> None:
    env = {"DJANGO_SUPERUSER_PASSWORD": "x" * 20, "DJANGO_SUPERUSER_EMAIL": "", "HOME": "/"}
    assert runs.superuser_values(["createsuperuser", "--noinput"], env) == {
        "DJANGO_SUPERUSER_PASSWORD": "x" * 20
    }
    assert runs.superuser_values(["shell"], env) == {}


def test_run_ids_sort_by_time_and_match_the_documents_pattern() -> None:
    early = runs.new_run_id(datetime(2026, 12, 7, 13, 45, 1, tzinfo=UTC))
    late = runs.new_run_id(datetime(2026, 12, 7, 13, 45, 2, tzinfo=UTC))
    assert re.fullmatch(r"r-20261207t134501-[0-9a-f]{8}", early)
    assert early < late and re.fullmatch(r"[a-z0-9-]{1,64}", late)


def test_records_come_newest_first_and_a_tie_goes_to_the_later_line() -> None:
    lines = [
        json.dumps({"run": "a", "started": "2026-12-07T10:00:00.000Z", "exit": 0}),
        "not json",
        json.dumps({"run": "b", "started": "2026-12-07T11:00:00.000Z", "exit": 1}),
        json.dumps({"run": "c", "started": "2026-12-07T11:00:00.000Z", "exit": 124}),
    ]
    assert [r["run"] for r in runs.records(lines)] == ["c", "b", "a"]
    line = runs.record_line(
        {"started": "2026-12-07T11:00:00.123Z", "instance": "i1", "exit": 124, "command": "migrate"}
    )
    assert line.startswith("2026-12-07 11:00:00  i1") and "timed out" in line
