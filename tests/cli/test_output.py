"""Output conventions: streams, colour, errors, tracebacks only with --debug, exit codes."""

import io
from pathlib import Path
from typing import Any

import pytest

from cloudsite.commands import stack
from cloudsite.errors import CloudsiteError, StackError
from cloudsite.ui import Ui
from tests.cli.conftest import invoke


def test_errors_are_what_why_details_and_hint_on_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    Ui(out=out, err=err, interactive=False).error(
        StackError(
            "stack wanderpage",
            "Vpc (AWS::EC2::VPC) CREATE_FAILED: limit",
            hint="ask AWS",
            details=["the stack is now ROLLBACK_COMPLETE"],
        )
    )
    assert out.getvalue() == ""
    assert err.getvalue() == (
        "error: stack wanderpage: Vpc (AWS::EC2::VPC) CREATE_FAILED: limit\n"
        "  the stack is now ROLLBACK_COMPLETE\n"
        "hint: ask AWS\n"
    )


def test_no_colour_when_stderr_is_not_a_terminal() -> None:
    err = io.StringIO()
    Ui(err=err, interactive=False).warn("careful", hint="look")
    assert "\x1b[" not in err.getvalue()


def test_colour_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    Ui(err=err, interactive=True).warn("careful")
    assert "\x1b[33m" in err.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = io.StringIO()
    Ui(err=plain, interactive=True).warn("careful")
    assert "\x1b[" not in plain.getvalue()


def test_a_wait_shows_what_it_waits_for_and_its_limit_then_each_event() -> None:
    err = io.StringIO()
    with Ui(err=err, interactive=False).waiting("creating stack x", timeout=2700) as wait:
        wait.status("CREATE_IN_PROGRESS")
        wait.status("CREATE_IN_PROGRESS")  # unchanged: not repeated
        wait.event("12:00:01 CREATE_COMPLETE AWS::EC2::VPC Vpc")
    assert err.getvalue() == (
        "... creating stack x (up to 45 min)\n"
        "    CREATE_IN_PROGRESS\n"
        "    12:00:01 CREATE_COMPLETE AWS::EC2::VPC Vpc\n"
    )


def test_a_wait_on_a_terminal_draws_a_live_status_and_keeps_events() -> None:
    err = io.StringIO()
    with Ui(err=err, interactive=True).waiting("creating stack x", timeout=60) as wait:
        wait.status("CREATE_IN_PROGRESS")
        wait.event("12:00:01 CREATE_COMPLETE AWS::EC2::VPC Vpc")
    assert "12:00:01 CREATE_COMPLETE AWS::EC2::VPC Vpc" in err.getvalue()


def _fail_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException, phase: str = "") -> None:
    def up(ctx: Any, **kwargs: Any) -> None:
        ctx.phase = phase
        raise exc

    monkeypatch.setattr(stack, "up", up)


def test_a_failure_exits_1_without_a_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, StackError("stack wanderpage", "it broke", hint="fix it"))
    result = invoke("up", "--yes")
    assert result.exit_code == 1
    assert result.stderr == "error: stack wanderpage: it broke\nhint: fix it\n"


def test_debug_adds_the_traceback(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, StackError("stack wanderpage", "it broke", hint="fix it"))
    result = invoke("up", "--yes", "--debug")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith("error: stack wanderpage: it broke\nhint: fix it\n")


def test_an_unexpected_exception_is_an_internal_error_with_a_hint(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, ZeroDivisionError("division by zero"))
    result = invoke("up", "--yes")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: internal error: ZeroDivisionError: division by zero\n"
        "hint: rerun with --debug for the traceback, and report it\n"
    )


def test_ctrl_c_while_the_stack_changes_says_how_to_carry_on(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, KeyboardInterrupt(), phase="stack")
    result = invoke("up", "--yes")
    assert result.exit_code == 130
    assert (
        "interrupted: the stack operation goes on in CloudFormation; rerun `cloudsite up`"
        in result.stderr
    )


def test_exit_codes_are_in_the_help() -> None:
    result = invoke("--help")
    assert "Exit codes: 0 ok, 1 the operation failed, 2 bad input or usage" in result.stdout
    assert "defaults < cloudsite.toml < CLOUDSITE_* environment variables < flags" in result.stdout


def test_every_command_has_a_one_sentence_help() -> None:
    from cloudsite.cli import cli

    for name, command in cli.commands.items():
        text = (command.help or "").strip()
        assert text.endswith(".") and text.count(". ") == 0, name


def test_errors_have_exit_codes_by_kind() -> None:
    from cloudsite.errors import ConfigError, OperationError

    assert ConfigError("a", "b").exit_code == 2
    assert OperationError("a", "b").exit_code == 1
    assert issubclass(StackError, CloudsiteError)
