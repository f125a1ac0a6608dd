"""Run one [schedule] entry once per scheduled time, however many instances are sent it.

EventBridge Scheduler sends the run to every instance of the Auto Scaling group through Run
Command (there is no "one of them"), with the time it was scheduled for; `cloudsite local`'s
scheduler does the same. Each instance's manage.sh starts this command in a one-off container,
and the database decides:

1. the instance whose row (name, scheduled time) goes in first runs it; the others find the
   row, say which instance has it, and exit 0;
2. a run of the same entry that is still going holds a PostgreSQL advisory lock named after
   the entry: a new run then records "skipped" instead of starting twice;
3. the command runs as a child process, with the timeout; its exit status is this command's,
   and the row keeps it, the instance, and when it started and ended (`cloudsite status`).

A command is "manage.py NAME ARGS" (run with this Python) or the name of a [processes] entry
(its command, from the image's project.json).
"""

import hashlib
import os
import shlex
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cloudsite.runtime.deployments.management.commands.migrate_once import log


def lock_key(name: str) -> int:
    """The advisory lock of one entry: a signed 64-bit number from its name."""
    digest = hashlib.sha256(f"cloudsite-schedule:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def command_words(words: list[str], processes: list[dict[str, Any]]) -> list[str]:
    """What to execute: manage.py with this Python, or a process's own command."""
    if words[:2] == ["python", "manage.py"]:
        words = words[1:]
    if words and words[0] == "manage.py":
        return [sys.executable, "manage.py", *words[1:]]
    named = {p["name"]: p["command"] for p in processes}
    if len(words) == 1 and words[0] in named:
        return shlex.split(named[words[0]])
    raise CommandError(
        f"{shlex.join(words)!r} is neither 'manage.py COMMAND' nor one of the release's "
        f"processes ({', '.join(named) or 'none'})"
    )


class Command(BaseCommand):
    help = "Run a [schedule] entry once for its scheduled time (cloudsite's scheduler)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--at", required=True, help="the time it was scheduled for")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds")
        parser.add_argument("words", nargs="+", help="the command (after --)")

    def handle(
        self, *args: Any, name: str, at: str, timeout: int, words: list[str], **_: Any
    ) -> None:
        from cloudsite.runtime.deployments.models import ScheduledRun
        from cloudsite.runtime.production import load_project

        if connection.vendor != "postgresql":
            raise CommandError("a schedule runs once only with a database server (database = true)")
        command = command_words(words, load_project().get("processes", []))
        instance = os.environ.get("CLOUDSITE_INSTANCE_ID", "")
        fields = {"name": name, "scheduled_at": at}
        try:
            with transaction.atomic():
                run = ScheduledRun._default_manager.create(
                    **fields, instance=instance, command=words
                )
        except IntegrityError:
            other = ScheduledRun._default_manager.get(**fields)
            log(
                "schedule: another instance has this run",
                schedule=name,
                at=at,
                instance=other.instance,
                outcome="elsewhere",
            )
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)])
            (locked,) = cursor.fetchone()
        if not locked:
            self._end(run, status="skipped", code=None)
            log(
                "schedule: skipped, the run before is still going",
                schedule=name,
                at=at,
                instance=instance,
                outcome="skipped",
            )
            return
        try:
            code = self._run(run, command, timeout=timeout)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(name)])
        if code:
            sys.exit(code)

    def _run(self, run: Any, command: list[str], *, timeout: int) -> int:
        log(
            "schedule: running",
            schedule=run.name,
            at=run.scheduled_at,
            instance=run.instance,
            command=shlex.join(run.command),
        )
        child = subprocess.Popen(command)  # noqa: S603 (the release's own configured command)
        # docker stop (a cancelled run, a deploy) reaches the command too.
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            code = child.wait(timeout=timeout)
            status = "ok" if code == 0 else "failed"
        except subprocess.TimeoutExpired:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
            code, status = 124, "timeout"
        self._end(run, status=status, code=code)
        log(
            f"schedule: {status}",
            schedule=run.name,
            at=run.scheduled_at,
            instance=run.instance,
            exit=code,
            outcome=status,
        )
        return code

    def _end(self, run: Any, *, status: str, code: int | None) -> None:
        run.status, run.exit_code, run.finished_at = status, code, timezone.now()
        run.save(update_fields=["status", "exit_code", "finished_at"])
