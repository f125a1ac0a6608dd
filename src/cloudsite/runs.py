"""One-off commands (`cloudsite manage`, `cloudsite local manage`): what both paths share.

A run has an id, its arguments travel as base64 of a JSON array (the only form the stack's
documents accept: no shell character can reach the instance's script), createsuperuser's
values travel apart from them as secrets, and the instance's manage.sh writes one record of
it (hooks/manage.sh). Nothing here calls AWS or an engine.
"""

import base64
import json
import secrets
import shlex
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cloudsite.errors import UsageError

# Commands that ask questions on a terminal: with a TTY on stdin they get one.
INTERACTIVE: Final = ("shell", "dbshell", "changepassword", "shell_plus")
SUPERUSER_PREFIX: Final = "DJANGO_SUPERUSER_"
NO_DATABASE: Final = (
    "no database: the command runs in a container of its own, on its own copy of the build's "
    "SQLite, and what it writes goes with it (database = true in cloudsite.toml keeps it)"
)
# manage.sh's exit statuses of its own (the command's are passed through as they are).
TIMED_OUT: Final = 124
NOT_RUN: Final = 125


def new_run_id(now: datetime | None = None) -> str:
    """r-YYYYMMDDtHHMMSS-XXXXXXXX: sorts by time, unique enough to name a container."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"r-{moment:%Y%m%dt%H%M%S}-{secrets.token_hex(4)}"


def checked(args: Sequence[str], *, verb: str) -> list[str]:
    """The arguments, or a UsageError when there are none (before anything runs)."""
    args = [a for a in args]
    if not args:
        raise UsageError(
            verb,
            "no command to run: give manage.py's arguments",
            hint=f"e.g. `cloudsite {verb} check --deploy`, or `cloudsite {verb} -- shell -c ...`",
        )
    if any("\0" in a for a in args):
        raise UsageError(verb, "an argument holds a NUL character", hint="remove it")
    return args


def encode(args: Sequence[str]) -> str:
    """CLOUDSITE_MANAGE_ARGS: base64 of the JSON array."""
    return base64.b64encode(json.dumps(list(args)).encode()).decode()


def command_line(args: Sequence[str]) -> str:
    return shlex.join(args)


def wants_terminal(args: Sequence[str], *, flag: bool | None, stdin_tty: bool) -> bool:
    """--interactive / --no-interactive decide; without either, a TTY on stdin opens a terminal
    for the commands that ask questions (createsuperuser without --noinput, shell, ...)."""
    if flag is not None:
        return flag
    if not stdin_tty or not args:
        return False
    if args[0] == "createsuperuser":
        return not ({"--noinput", "--no-input"} & set(args))
    return args[0] in INTERACTIVE


def superuser_values(args: Sequence[str], env: Mapping[str, str]) -> dict[str, str]:
    """createsuperuser's DJANGO_SUPERUSER_* values from the operator's environment (for
    `manage createsuperuser --noinput` in scripts); none for any other command."""
    if not args or args[0] != "createsuperuser":
        return {}
    return {k: v for k, v in env.items() if k.startswith(SUPERUSER_PREFIX) and v}


def forget_superuser_values() -> None:
    """Take DJANGO_SUPERUSER_* out of this process's environment once they are read, so no
    process it starts (the engine, the instance's script) inherits them."""
    import os

    for name in [k for k in os.environ if k.startswith(SUPERUSER_PREFIX)]:
        del os.environ[name]


def record_line(record: Mapping[str, Any]) -> str:
    """One run's record as a status line: when, where, how it ended, what ran."""
    code = record.get("exit")
    ended = {0: "ok", TIMED_OUT: "timed out", NOT_RUN: "not run"}.get(code, f"exit {code}")  # type: ignore[arg-type]
    started = str(record.get("started", "")).replace("T", " ").rstrip("Z")[:19]
    return f"{started}  {record.get('instance', '?'):<12} {ended:<10} {record.get('command', '')}"


def records(lines: Sequence[str]) -> list[dict[str, Any]]:
    """The records among `lines` (JSON objects with a run id), newest first."""
    found = []
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "run" in doc:
            found.append(doc)
    # Later lines win a tie: a file holds its records in the order they were written.
    ordered = sorted(enumerate(found), key=lambda p: (str(p[1].get("started", "")), p[0]))
    return [record for _, record in reversed(ordered)]
