"""`make emulator` (scripts/emulator.py), which the README offers for trying `cloudsite up`
with no AWS account: it prints the variables to export, and the CLI, run as a user runs it
in another process, goes through up --detach, status and down against it."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.corpus import startproject
from tests.support.servers import ROOT

pytestmark = pytest.mark.emulator
CLOUDSITE = str(ROOT / ".venv" / "bin" / "cloudsite")


def test_make_emulator_takes_up_status_and_down_from_the_cli(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "emulator.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        exports: dict[str, str] = {}
        for line in server.stdout:
            if match := re.match(r"export (\w+)=(\S+)$", line.strip()):
                exports[match.group(1)] = match.group(2)
            if "AWS_REGION" in exports:
                break
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        project = startproject(tmp_path / "tryit")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDSITE_"))}
        env = {
            **keep,
            **exports,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "CLOUDSITE_POLL_SECONDS": "0.1",
        }
        for argv in (["up", "--yes", "--detach"], ["status"], ["down", "--yes"]):
            result = subprocess.run(
                [CLOUDSITE, *argv],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert result.returncode == 0, f"{argv}: {result.stderr[-2000:]}"
        assert "nothing is left to pay for" in result.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
