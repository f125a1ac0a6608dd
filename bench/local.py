"""`cloudsite local` figures for docs/benchmarks.md, on a `django-admin startproject` project:
the time from `local up` to the URL answering, cold and warm, and a `local deploy` of a
one-file change. Prints them; asserts nothing.

    .venv/bin/python bench/local.py [--edge haproxy|nginx]

    cold     `local up --no-cache` in a fresh project: every image layer built (Debian's
             Python and the dependencies downloaded), the edge and both instances started
    warm     `local down`, then `local up` again: the layers are cached
    deploy   a one-line change, then `local deploy`: a new release, one instance at a time
    through  wrk for 10 s, 8 connections, against the login page through the edge (TLS):
             what the edge costs a request (nginx's closes every connection, see
             cloudsite/local/nginx.py)

Each run is the CLI as a user runs it, on the engine the tests use, with the local Debian
base (no registry answers here). The clock stops when the HTTPS URL answers 200.
"""

import argparse
import json
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.corpus import startproject  # noqa: E402
from tests.support.engine import Engine, start_engine  # noqa: E402

CLOUDSITE = ROOT / ".venv" / "bin" / "cloudsite"
PAGE = "admin/login/"


def through(url: str) -> str:
    """wrk's requests/s and latency through the edge (wrk does not check the certificate)."""
    if not shutil.which("wrk"):
        return "wrk is not installed"
    found = subprocess.run(
        ["wrk", "-t2", "-c8", "-d10s", "--latency", url + PAGE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", found)
    p50 = re.search(r"^\s+50%\s+(\S+)", found, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", found, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", found)
    return (
        f"{float(rate.group(1)) if rate else 0:.0f} req/s, p50 {p50.group(1) if p50 else '?'}, "
        f"p99 {p99.group(1) if p99 else '?'}" + (f", {errors.group(0)}" if errors else "")
    )


def timed(engine: Engine, project: Path, *args: str) -> float:
    """Seconds from starting the command to its URL answering PAGE with 200."""
    started = time.monotonic()
    result = subprocess.run(
        [str(CLOUDSITE), "local", *args],
        cwd=project,
        env=engine.script_env(BASE_IMAGE=engine.base_image),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    url = result.stdout.strip()
    context = ssl.create_default_context(cafile=str(project / ".cloudsite/local/tls/ca.pem"))
    while True:
        try:
            with urllib.request.urlopen(url + PAGE, timeout=5, context=context) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.05)


def down(engine: Engine, project: Path, *, check: bool) -> None:
    subprocess.run(
        [str(CLOUDSITE), "local", "down"],
        cwd=project,
        env=engine.script_env(),
        capture_output=True,
        check=check,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edge", choices=["haproxy", "nginx"], default="haproxy")
    edge = parser.parse_args().edge
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_engine(Path(tmp), insecure_registries=[]) as engine,
    ):
        if engine is None:
            sys.exit("error: no container engine; hint: run scripts/podman.sh setup")
        project = startproject(Path(tmp) / "mysite")
        try:
            cold = timed(engine, project, "up", "--no-cache", "--edge", edge)
            down(engine, project, check=True)
            warm = timed(engine, project, "up", "--edge", edge)
            with open(project / "mysite" / "urls.py", "a") as changed:
                changed.write("\n# a one-line change, for the redeploy benchmark\n")
            redeploy = timed(engine, project, "deploy")
            state = json.loads((project / ".cloudsite" / "local" / "state.json").read_text())
            served = through(f"https://127.0.0.1:{state['port']}/")
        finally:
            down(engine, project, check=False)
    print(f"engine: {engine.kind}, edge: {edge}")
    print(f"local up, cold (--no-cache, a fresh project): {cold:.1f} s   (target <= 90 s)")
    print(f"local up, warm (cached layers):               {warm:.1f} s   (target <= 20 s)")
    print(f"local deploy after a one-line change:         {redeploy:.1f} s   (target <= 30 s)")
    print(f"through the edge (wrk, 8 connections, TLS):   {served}")


if __name__ == "__main__":
    main()
