"""`cloudsite up --detach` then `cloudsite down` against the local emulator, timed.

Target: under 60 s together. The CLI runs as a user runs it (separate processes) against
moto's server on loopback, taught the stack's resource types (tests/cli/emulator.py). The
project shipped is the reference site, examples/wanderpage.
    .venv/bin/python bench/cli_up_down.py
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cli.emulator import emulator  # noqa: E402
from tests.support.moto import aws_env  # noqa: E402

CLOUDSITE = Path(sys.executable).with_name("cloudsite")


def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv[1:])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    with emulator() as endpoint, tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "wanderpage"
        project.mkdir()
        (project / "cloudsite.toml").write_text(
            f'name = "wanderpage"\nregion = "us-east-1"\n'
            f'source_dir = "{ROOT / "examples" / "wanderpage"}"\n'
        )
        env = {**os.environ, **aws_env(endpoint), "CLOUDSITE_POLL_SECONDS": "0.2"}
        up = timed([str(CLOUDSITE), "up", "--yes", "--detach"], cwd=project, env=env)
        down = timed([str(CLOUDSITE), "down", "--yes"], cwd=project, env=env)
    print(
        f"cloudsite up --detach: {up:.1f} s; cloudsite down: {down:.1f} s; "
        f"together {up + down:.1f} s (target < 60 s)"
    )


if __name__ == "__main__":
    main()
