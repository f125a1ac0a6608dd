"""The image of a bare `django-admin startproject` on each Python this machine can rehearse
(runtime/pythons.toml's `stand_in`), for docs/your-project.md#python-versions: its size and
the build time, cold (every layer of that base built) and warm (a one-line change). Prints
them; asserts nothing.

    .venv/bin/python bench/python_versions.py [--only 3.14]

Each build is `cloudsite build` as a user runs it, with podman, on the offline stand-in that
`scripts/podman.sh python X.Y` makes from Debian's packages (BASE_IMAGE_3_Y).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloudsite.runtime import pythons  # noqa: E402
from tests.support.corpus import startproject  # noqa: E402
from tests.support.engine import python_stand_in  # noqa: E402

CLOUDSITE = ROOT / ".venv" / "bin" / "cloudsite"


def build(root: Path, env: dict[str, str], *, no_cache: bool) -> tuple[float, float]:
    """(seconds, MB) of one `cloudsite build`."""
    argv = [str(CLOUDSITE), "build", "--tag", "bench", "--json"] + (["--no-cache"] * no_cache)
    started = time.monotonic()
    result = subprocess.run(
        argv, cwd=root, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{root.name}: build failed\n{result.stderr[-2000:]}")
    return seconds, json.loads(result.stdout)["size"] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="X.Y")
    args = parser.parse_args()
    rows = []
    for version, python in pythons.table().items():
        if not python.stand_in or (args.only and version not in args.only):
            continue
        base = python_stand_in(version)
        if base is None:
            print(f"{version}: no stand-in could be made here", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="bench-python-") as tmp:
            root = startproject(Path(tmp) / "site")
            (root / ".python-version").write_text(f"{version}\n")
            (root / "cloudsite.toml").write_text(f'name = "bench{version.replace(".", "")}"\n')
            env = dict(os.environ, CLOUDSITE_ENGINE="podman", **{python.variable: base})
            cold, size = build(root, env, no_cache=True)
            (root / "mysite" / "urls.py").write_text(
                (root / "mysite" / "urls.py").read_text() + "\n# a one-line change\n"
            )
            warm, _ = build(root, env, no_cache=False)
        rows.append((version, python.interpreter, python.stand_in, size, cold, warm))
    print("| Python | interpreter | stand-in | image | cold build | warm build |")
    print("|---|---|---|---|---|---|")
    for version, interpreter, suite, size, cold, warm in rows:
        cells = [version, interpreter, suite, f"{size:.1f} MB", f"{cold:.0f} s", f"{warm:.0f} s"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
