"""Background work figures for docs/benchmarks.md (issue 24): a Celery project (the tests'
tests/support/corpus.py celery_project) under `cloudsite local up`, two instances behind
HAProxy with a worker each (2 processes), once on each broker's stand-in. Prints; asserts
nothing.

    .venv/bin/python bench/background.py [--tasks 400] [--latency 100] [--broker sqs redis]

    throughput  TASKS tasks enqueued through the site as fast as 8 clients can, then the time
                until the last has run: tasks per second through the broker, end to end
    latency     one request at a time, 0.5 s apart: from just before the web request that
                enqueues a task to the moment the task begins in a worker (time.time() in
                both: one kernel clock), p50 and p99

Each broker's figures come from a fresh rehearsal (the SQS stand-in is moto's server, the
Valkey one Debian's valkey-server); the engine is the one the tests use, with the local Debian
base (no registry answers here).
"""

import argparse
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.corpus import celery_project  # noqa: E402
from tests.support.engine import Engine, start_engine  # noqa: E402

CLOUDSITE = ROOT / ".venv" / "bin" / "cloudsite"
CONFIG = """\
name = "csbench{broker}"
database = true
broker = "{broker}"
task_timeout_seconds = 60

[processes]
worker = "celery -A mysite.celery_app worker --loglevel=WARNING --concurrency=2"
"""


class Site:
    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine, self.root = engine, root
        self.url = ""

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(CLOUDSITE), "local", *args],
            cwd=self.root,
            env=self.engine.script_env(BASE_IMAGE=self.engine.base_image),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        return done.stdout.strip()

    def get(self, path: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.root / ".cloudsite/local/tls/ca.pem"))
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=30, context=context) as r:
            return bytes(r.read())

    def started(self) -> dict[str, float]:
        return {k: float(v) for k, v in json.loads(self.get("/started/")).items()}


def throughput(site: Site, tasks: int) -> str:
    keys = [f"t{n:05d}" for n in range(tasks)]
    began = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: site.get(f"/enqueue/{key}/"), keys))
    enqueued = time.time() - began
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        done = site.started()
        if all(k in done for k in keys):
            break
        time.sleep(0.5)
    else:
        return f"{len([k for k in keys if k in site.started()])} of {tasks} ran within 600 s"
    last = max(done[k] for k in keys)  # the last task's start, as a worker saw it
    total = last - began
    return (
        f"{tasks} tasks: enqueued in {enqueued:.1f} s ({tasks / enqueued:.0f}/s through the "
        f"web), all begun {total:.1f} s after the first request: {tasks / total:.0f} tasks/s"
    )


def latency(site: Site, count: int) -> str:
    sent: dict[str, float] = {}
    for n in range(count):
        key = f"l{n:05d}"
        sent[key] = time.time()
        site.get(f"/enqueue/{key}/")
        time.sleep(0.5)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not all(k in site.started() for k in sent):
        time.sleep(0.5)
    begun = site.started()
    waits = sorted((begun[k] - t) * 1000 for k, t in sent.items() if k in begun)
    if not waits:
        return "no task began"
    p99 = waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
    return (
        f"request to task start, {len(waits)} tasks one by one: p50 "
        f"{statistics.median(waits):.0f} ms, p99 {p99:.0f} ms, max {waits[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--broker", nargs="+", choices=["sqs", "redis"], default=["sqs", "redis"])
    args = parser.parse_args()
    results = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_engine(Path(tmp), insecure_registries=[]) as engine,
    ):
        if engine is None:
            sys.exit("error: no container engine; hint: run scripts/podman.sh setup")
        for broker in args.broker:
            root = celery_project(Path(tmp) / broker)
            (root / "cloudsite.toml").write_text(CONFIG.format(broker=broker))
            site = Site(engine, root)
            try:
                site.url = site.cli("up", "--edge", "haproxy")
                site.get("/counts/")
                results.append((broker, throughput(site, args.tasks), latency(site, args.latency)))
            finally:
                site.cli("down", "--delete-data", "--yes")
    print("engine: podman or docker, 2 instances x 1 worker x 2 processes, HAProxy with TLS")
    for broker, through, waits in results:
        stand_in = "moto's SQS server" if broker == "sqs" else "Debian's valkey-server"
        print(f"{broker} ({stand_in}):")
        print(f"  throughput  {through}")
        print(f"  latency     {waits}")


if __name__ == "__main__":
    main()
