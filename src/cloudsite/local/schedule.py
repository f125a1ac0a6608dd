"""[schedule] on the rehearsal, the way EventBridge Scheduler and Run Command run it on AWS:
each run is sent to every instance at once, with the time it was scheduled for, and each
instance's own manage.sh starts `manage.py cloudsite_scheduled` in a one-off container, where
a database row (name, time) lets exactly one of them run it (docs/background.md).

    run(local, name, at=..., progress=...) -> Outcome   one entry now (`local schedule run`)
    start(local) / stop(local)                          the scheduler, a process of its own
    due(entry, when, since)                             whether an entry runs at a minute

The scheduler (`python -m cloudsite.local.schedule ROOT NAME`) wakes at each minute, reads
the entries of the release deployed last (its bundle's background.json, so a deploy changes
them), and sends each one due. Its log is .cloudsite/local/scheduler.log; `local up` starts it
when the release has a schedule, `local down` stops it.
"""

import datetime
import json
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cloudsite import cron, runs
from cloudsite.errors import UsageError
from cloudsite.local import edge
from cloudsite.local.site import LIB, Local

PID_FILE: Final = "scheduler.pid"
LOG_FILE: Final = "scheduler.log"


@dataclass
class Outcome:
    """What the instances did with one run: who ran it, its exit status and output."""

    name: str
    at: str
    instance: str = ""  # the instance that ran it ("" when none did)
    exit: int = 0
    output: str = ""
    others: dict[str, str] = field(default_factory=dict)  # instance -> elsewhere | skipped | ...


def entries(local: Local) -> list[dict[str, Any]]:
    """The [schedule] of the release deployed last (none before the first deploy)."""
    state = local.state
    if state is None or not state.last_good:
        return []
    path = Path(state.last_good) / "background.json"
    if not path.is_file():
        return []
    return list(json.loads(path.read_text()).get("schedule", []))


def run(local: Local, name: str, *, at: str = "", progress: Any = None) -> Outcome:
    """Send one run of `name` to every instance whose site runs, at once; the database lets
    one of them run it. `at` defaults to now, to the second."""
    found = {entry["name"]: entry for entry in entries(local)}
    if name not in found:
        raise UsageError(
            "local schedule run",
            f"'{name}' is not in the [schedule] of the release deployed here "
            f"({', '.join(found) or 'none'})",
            hint="add it to cloudsite.toml, then `cloudsite local deploy`",
        )
    entry = found[name]
    when = at or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    targets = [e for e in (local.state.instances if local.state else []) if _script(local, e)]
    if not targets:
        raise UsageError(
            "local schedule run",
            "no instance has a release deployed",
            hint="run `cloudsite local up` first",
        )
    if progress:
        progress(f"schedule: {name} at {when} to {len(targets)} instance(s)")
    results: dict[str, tuple[int, str]] = {}
    threads = [
        threading.Thread(target=_send, args=(local, entry, when, target, results))
        for target in targets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome = Outcome(name=name, at=when)
    for instance, (code, output) in sorted(results.items()):
        said = _outcome(output)
        if said in ("elsewhere", "skipped") and code == 0:
            outcome.others[instance] = said
        elif code == runs.NOT_RUN:  # manage.sh could not start it here
            outcome.others[instance] = f"not run (exit {code})"
            outcome.output += output
        else:
            outcome.instance, outcome.exit, outcome.output = instance, code, output
    return outcome


def _script(local: Local, entry: dict[str, Any]) -> Path | None:
    script = local.folder / "instances" / entry["name"] / LIB / "manage.sh"
    return script if script.is_file() else None


def _send(
    local: Local,
    entry: dict[str, Any],
    when: str,
    target: dict[str, Any],
    results: dict[str, tuple[int, str]],
) -> None:
    """What Run Command does on one instance: the ScheduleDocument's environment, manage.sh."""
    root = local.folder / "instances" / target["name"]
    script = _script(local, target)
    assert script is not None
    env = dict(local.engine.env)
    env.update(
        CLOUDSITE_ENV_FILE=str(root / "etc" / "cloudsite" / "env"),
        CLOUDSITE_SCHEDULE_NAME=entry["name"],
        CLOUDSITE_SCHEDULE_AT=when,
        CLOUDSITE_MANAGE_ARGS=runs.encode(shlex.split(entry["command"])),
        CLOUDSITE_MANAGE_RUN_ID=runs.new_run_id().replace("r-", "s-", 1),
        CLOUDSITE_MANAGE_TIMEOUT=str(int(entry.get("timeout_minutes", 60)) * 60),
    )
    done = subprocess.run(  # noqa: S603 (the instance's own script)
        [str(script)],
        env=env,
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    results[target["name"]] = (done.returncode, done.stdout + done.stderr)


def _outcome(output: str) -> str:
    """The outcome cloudsite_scheduled logged (a JSON line on stdout), or ''."""
    for line in output.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        said = isinstance(doc, dict) and str(doc.get("message", "")).startswith("schedule:")
        if said and doc.get("outcome") in ("elsewhere", "skipped"):
            return str(doc["outcome"])
    return ""


def due(entry: dict[str, Any], when: datetime.datetime, since: datetime.datetime) -> bool:
    """Whether `entry` runs at the minute `when`: its cron matches, or `rate` minutes have
    passed since the scheduler started (`since`), as a new EventBridge schedule counts."""
    expression = str(entry["expression"])
    inner = expression[expression.index("(") + 1 : -1]
    if expression.startswith("cron("):
        return cron.matches(inner, when)
    minutes = int((when - since.replace(second=0, microsecond=0)).total_seconds() // 60)
    return minutes > 0 and minutes % cron.rate_minutes(inner) == 0


# ---------------------------------------------------------------------------- the scheduler
def start(local: Local) -> bool:
    """Start the scheduler when the release has a schedule and none runs; True if one runs."""
    if not entries(local):
        stop(local)
        return False
    if _pid(local):
        return True
    log = open(local.folder / LOG_FILE, "ab")  # noqa: SIM115 (the child keeps it)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "cloudsite.local.schedule", str(local.root), local.name],
        env={**local.engine.env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # not stopped by the terminal's Ctrl-C
    )
    log.close()
    (local.folder / PID_FILE).write_text(f"{process.pid}\n")
    return True


def stop(local: Local) -> None:
    """Stop the scheduler, if one runs (a run it started finishes in its own container)."""
    edge.terminate(_pid(local))
    (local.folder / PID_FILE).unlink(missing_ok=True)


def _pid(local: Local) -> int:
    path = local.folder / PID_FILE
    try:
        pid = int(path.read_text())
    except (OSError, ValueError):
        return 0
    return pid if edge.alive(pid) else 0


def main(root: str, name: str) -> None:
    from cloudsite.local.site import open_local

    def say(line: str) -> None:
        stamp = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"
        sys.stdout.write(f"{stamp} {line}\n")
        sys.stdout.flush()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    local = open_local(Path(root), name=name, progress=say, edge_kind=None)
    since = datetime.datetime.now(datetime.UTC)
    say(f"scheduler: started for {name}")
    while True:
        now = datetime.datetime.now(datetime.UTC)
        time.sleep(60 - now.second - now.microsecond / 1e6)
        minute = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
        local.load()
        for entry in entries(local):
            if due(entry, minute, since):
                threading.Thread(target=_scheduled, args=(local, entry, minute, say)).start()


def _scheduled(local: Local, entry: dict[str, Any], minute: datetime.datetime, say: Any) -> None:
    at = minute.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        outcome = run(local, entry["name"], at=at)
    except UsageError as error:
        say(f"{entry['name']} at {at}: not sent ({error})")
        return
    others = ", ".join(f"{k}: {v}" for k, v in outcome.others.items())
    ran = f"ran on {outcome.instance}, exit {outcome.exit}" if outcome.instance else "ran nowhere"
    say(f"{entry['name']} at {at}: {ran}" + (f" ({others})" if others else ""))


if __name__ == "__main__":
    main(*sys.argv[1:3])
