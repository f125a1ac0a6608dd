"""How long `cloudsite --help` takes, wall clock, as a user runs it (a fresh process).

Target: 0.3 s or less. Prints the median and the fastest of RUNS runs.
    .venv/bin/python bench/cli_help.py
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
CLOUDSITE = Path(sys.executable).with_name("cloudsite")


def main() -> None:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([str(CLOUDSITE), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print(
        f"cloudsite --help: median {statistics.median(times):.3f} s, "
        f"fastest {min(times):.3f} s over {RUNS} runs (target <= 0.300 s)"
    )


if __name__ == "__main__":
    main()
