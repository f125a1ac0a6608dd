"""`cloudsite local manage`: one management command on the rehearsal, by Run Command's path.

The instance's own copy of manage.sh (<instance>/usr/local/lib/cloudsite/manage.sh, which
ApplicationStart installs from the release it deployed, as on EC2) runs with the instance's
env file, on one instance the edge has in service. Its output is the terminal's; its exit
status is the command's. createsuperuser's values go in a 0600 file that lives for the run
alone (the one-off SecureString parameter's stand-in), never on a command line.
"""

import json
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cloudsite import runs
from cloudsite.errors import UsageError
from cloudsite.local.site import LIB, Local, edge_for


def pick(local: Local) -> dict[str, Any]:
    """The first instance the edge has in service whose container runs; a UsageError when
    nothing is deployed or none is healthy."""
    state = local.state
    if state is None or not state.instances:
        raise UsageError(
            "local manage", "nothing is running here", hint="run `cloudsite local up` first"
        )
    balancer = edge_for(local)
    health = balancer.stats() if balancer.running() else {}
    healthy = [
        entry
        for entry in state.instances
        if health.get(entry["name"], {}).get("status", "").startswith("UP")
        and _running(local, entry)
    ]
    for entry in healthy:
        if _script(local, entry).is_file():
            return entry
    if healthy:  # deployed by a cloudsite that had no manage.sh
        raise UsageError(
            "local manage",
            "the release these instances run predates `cloudsite local manage`",
            hint="run `cloudsite local deploy` once: it installs manage.sh on each instance",
        )
    raise UsageError(
        "local manage",
        "no healthy instance: none is in service at the edge with its container running",
        hint="`cloudsite local status` shows them; `cloudsite local deploy` brings them back",
    )


def _script(local: Local, entry: Mapping[str, Any]) -> Path:
    return local.folder / "instances" / entry["name"] / LIB / "manage.sh"


def _running(local: Local, entry: Mapping[str, Any]) -> bool:
    found = local.engine.run(
        "container",
        "inspect",
        "--format",
        "{{.State.Status}}",
        local.container(entry["name"]),
        check=False,
    )
    return found.stdout.strip() == "running"


def manage(
    local: Local,
    args: Sequence[str],
    *,
    values: Mapping[str, str],
    interactive: bool,
    timeout: int,
) -> int:
    """Run manage.sh on one healthy instance; its exit status. `values`: createsuperuser's
    DJANGO_SUPERUSER_* (secret: through a 0600 file, deleted when the run ends)."""
    args = runs.checked(args, verb="local manage")
    entry = pick(local)
    root = local.folder / "instances" / entry["name"]
    run_id = runs.new_run_id()
    # The operator's DJANGO_SUPERUSER_* stay here: they travel in the one-off file only.
    env = {k: v for k, v in local.engine.env.items() if not k.startswith(runs.SUPERUSER_PREFIX)}
    env.update(
        CLOUDSITE_ENV_FILE=str(root / "etc" / "cloudsite" / "env"),
        CLOUDSITE_MANAGE_ARGS=runs.encode(args),
        CLOUDSITE_MANAGE_RUN_ID=run_id,
        CLOUDSITE_MANAGE_TIMEOUT=str(timeout),
    )
    if interactive:
        env["CLOUDSITE_MANAGE_INTERACTIVE"] = "1"
    oneoff = root / "run" / f"oneoff-{run_id}.json"
    try:
        if values:
            oneoff.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(oneoff, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(dict(values), handle)
            env["CLOUDSITE_MANAGE_SECRETS_FILE"] = str(oneoff)
        local.progress(f"{entry['name']}: manage.py {runs.command_line(args)} (run {run_id})")
        return _run(_script(local, entry), env=env, cwd=root)
    finally:
        oneoff.unlink(missing_ok=True)


def _run(script: Path, *, env: dict[str, str], cwd: Path) -> int:
    """The script with this terminal; Ctrl-C reaches it (and the container engine) from the
    terminal, and it gets the time to remove its container before it is killed."""
    process = subprocess.Popen([str(script)], env=env, cwd=cwd)  # noqa: S603 (our own script)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        raise


def history(local: Local, *, limit: int = 10) -> list[dict[str, Any]]:
    """The one-off runs' records on every instance, newest first."""
    lines: list[str] = []
    for folder in sorted((local.folder / "instances").glob("*/run")):
        path = folder / "runs.jsonl"
        if path.is_file():
            lines += path.read_text().splitlines()
    return runs.records(lines)[:limit]
