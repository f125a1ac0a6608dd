"""The site under load, beside three references, in one run on one machine. Prints figures.

    .venv/bin/python bench/site.py [--duration 10] [--connections 32] [--no-lighthouse]

What runs (each on a free loopback port, all stopped at the end):
  ours       the reference site through the runtime layer, as the image serves it (gunicorn
             with cloudsite.runtime.gunicorn_conf, the production settings layer, the front):
             /, /healthz and a hashed static file (the hero's AVIF), as the load balancer
             sends them (X-Forwarded-Proto: https, so no redirect)
  ceiling    nginx serving the home page's rendered bytes as a static file
  hello      a bare Django "hello" view on stock gunicorn (defaults: one sync worker)
  runserver  the original design: Django's development server on the same home page

Load comes from Debian's wrk (2 threads, --connections, --duration). Then Lighthouse (npm,
bench/lighthouse/) runs Debian's Chromium on our home page and prints its four category scores
and the page's total transfer size. The machine's load average is printed with every figure:
on a busy machine the absolute numbers drop, the ratios less so.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.layer import WANDERPAGE as SITE  # noqa: E402
from tests.support.layer import layer_env  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
LIGHTHOUSE = ROOT / "bench" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
# The load balancer terminates TLS and says so; the production profile then serves the page.
FORWARDED = {"X-Forwarded-Proto": "https"}


# ---------------------------------------------------------------------------- the servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(argv: list[str], *, port: int, log: Path, **popen: object) -> Iterator[str]:
    """Run argv in its own process group until the block ends; yields its base URL."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )  # type: ignore[call-overload]
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{argv[:4]} did not start; see {log}") from None
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def site_env(workdir: Path) -> dict[str, str]:
    """The reference site through the runtime layer on an embedded database, migrated, with
    static files collected, as the image has them."""
    env = layer_env(SITE, workdir / "layer")
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        # Behind the ALB every request carries X-Forwarded-Proto: https, and wrk sends it too.
        # Lighthouse sends it with the page's requests but not with its own robots.txt fetch,
        # which the redirect would turn into a 301 to an https://127.0.0.1 nothing answers.
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    for command in (["migrate"], ["collectstatic"]):
        subprocess.run(
            [PYTHON, "manage.py", *command, "--no-input"],
            cwd=SITE,
            env=env,
            check=True,
            capture_output=True,
        )
    return env


@contextmanager
def site_gunicorn(workdir: Path, *, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    argv = [
        PYTHON, "-m", "gunicorn", "--config", "python:cloudsite.runtime.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with serving(argv, port=port, log=workdir / "ours.log", cwd=SITE, env=env) as url:
        yield url


NGINX_CONF = """
daemon off;
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type text/html;
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp;
  fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp;
  scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/www;
    location / {{ index index.html; }}
  }}
}}
"""


@contextmanager
def nginx_static(workdir: Path, *, body: bytes) -> Iterator[str]:
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True)
    workdir.chmod(0o755)  # nginx's workers drop root and must read the page
    (root / "tmp").mkdir()
    (root / "www" / "index.html").write_bytes(body)
    port = free_port()
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with serving(
        [nginx, "-c", str(root / "nginx.conf"), "-p", str(root)], port=port, log=root / "out.log"
    ) as url:
        yield url


HELLO = """
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False, SECRET_KEY="bench-only", ALLOWED_HOSTS=["127.0.0.1"], ROOT_URLCONF=__name__,
    MIDDLEWARE=[], INSTALLED_APPS=[],
)
urlpatterns = [path("", lambda request: HttpResponse("hello"))]
application = get_wsgi_application()
"""


@contextmanager
def hello_gunicorn(workdir: Path) -> Iterator[str]:
    """gunicorn's defaults (one sync worker); only the control socket is off, so this
    instance cannot take over another gunicorn's ~/.gunicorn/gunicorn.ctl."""
    (workdir / "hello").mkdir()
    (workdir / "hello" / "hello.py").write_text(HELLO)
    port = free_port()
    argv = [PYTHON, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}"]
    # gunicorn reads these two itself; what tunes our server must not tune the reference.
    stock = {
        k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS")
    }
    with serving(
        [*argv, "hello:application"],
        port=port,
        log=workdir / "hello.log",
        cwd=workdir / "hello",
        env=stock,
    ) as url:
        yield url


ORIGINAL_SETTINGS = """
from config.settings import *  # noqa: F403

# Django's own WSGI handler, without the front page cache of config/wsgi.py.
WSGI_APPLICATION = "original_wsgi.application"
"""
ORIGINAL_WSGI = """
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""


@contextmanager
def runserver(workdir: Path, *, env: dict[str, str]) -> Iterator[str]:
    """The original design: the development server and plain Django on the same page (the
    views keep their cache_page; only the server and the front cache differ)."""
    (workdir / "original").mkdir()
    (workdir / "original" / "original_settings.py").write_text(ORIGINAL_SETTINGS)
    (workdir / "original" / "original_wsgi.py").write_text(ORIGINAL_WSGI)
    original = {
        **env,
        "DJANGO_SETTINGS_MODULE": "original_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir / "original"), str(SITE)]),
        # the files the layer collected (the project's own settings read this variable)
        "DJANGO_STATIC_ROOT": env["CLOUDSITE_STATIC_ROOT"],
    }
    port = free_port()
    argv = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with serving(argv, port=port, log=workdir / "runserver.log", cwd=SITE, env=original) as url:
        yield url


def fetch(url: str, *, headers: dict[str, str]) -> bytes:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=30
    ) as response:
        return bytes(response.read())


# ---------------------------------------------------------------------------- the load
@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    load: float


def wrk(name: str, url: str, *, connections: int, duration: int, headers: dict[str, str]) -> Result:
    """One wrk run after a short warm-up (fills every worker's page cache)."""
    argv = ["wrk", "--threads", "2", "--connections", str(connections), "--latency"]
    for key, value in headers.items():
        argv += ["--header", f"{key}: {value}"]
    subprocess.run([*argv, "--duration", "2s", url], capture_output=True, check=True)
    load = os.getloadavg()[0]
    out = subprocess.run(
        [*argv, "--duration", f"{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    return Result(
        name=name,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_latency(out, "50%"),
        p99_ms=_latency(out, "99%"),
        errors=_errors(out),
        load=load,
    )


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _errors(out: str) -> int:
    """Socket errors and non-2xx/3xx responses, as wrk reports them."""
    count = 0
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        count += sum(int(n) for n in match.groups())
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        count += int(match.group(1))
    return count


def print_table(results: list[Result], *, reference: Result) -> None:
    columns = ("req/s", "p50 ms", "p99 ms", "vs ours", "errors", "load")
    print(f"\n{'target':34} " + " ".join(f"{c:>8}" for c in columns))
    for r in results:
        ratio = r.requests_per_second / reference.requests_per_second
        print(
            f"{r.name:34} {r.requests_per_second:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{ratio:7.2f}x {r.errors:8d} {r.load:8.2f}"
        )


def lighthouse(url: str) -> None:
    """Lighthouse's four category scores and the page's total transfer size."""
    binary = LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE, check=True)
    # Kept for a closer look (test-artifacts/ is ignored by git).
    report = ROOT / "test-artifacts" / "lighthouse-home.json"
    report.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            str(binary),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={CHROME_FLAGS}",
            f"--extra-headers={json.dumps(FORWARDED)}",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
    )
    data = json.loads(report.read_text())
    print("\nLighthouse " + data["lighthouseVersion"] + " (mobile emulation) on " + url)
    for category in data["categories"].values():
        score = "n/a" if category["score"] is None else round(category["score"] * 100)
        print(f"  {category['title']:16} {score:>3}")
    for audit in data["audits"].values():
        mode, score = audit.get("scoreDisplayMode"), audit.get("score")
        if mode == "error":
            # Lighthouse 12.2 cannot read some trace events of newer Chromium builds; these
            # audits are left out of the category scores, not failed.
            print(f"  not measured: {audit['id']}")
        elif score is not None and score < 1 and mode in ("binary", "numeric", "metricSavings"):
            print(f"  flagged: {audit['id']}: {audit['title']} ({audit.get('displayValue', '')})")
    weight = data["audits"]["total-byte-weight"]
    print(f"  total transfer   {weight['numericValue'] / 1024:.1f} KiB  (report: {report})")
    for key in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "cumulative-layout-shift",
        "total-blocking-time",
    ):
        print(f"  {data['audits'][key]['title']:28} {data['audits'][key]['displayValue']}")


def load_everything(
    stack: ExitStack, *, workdir: Path, env: dict[str, str], ours: str, load: dict[str, int]
) -> list[Result]:
    """wrk against our three URLs, then each reference, one server at a time."""
    home = fetch(f"{ours}/", headers=FORWARDED)
    hero = re.search(r"/static/img/hero/hero-1920\.[0-9a-f]+\.avif", home.decode())
    assert hero, "the home page names no hashed hero image"
    results = [
        wrk("ours: / (home page)", f"{ours}/", headers=FORWARDED, **load),
        wrk("ours: /healthz", f"{ours}/healthz", headers={}, **load),
        wrk("ours: static (hero AVIF)", f"{ours}{hero.group(0)}", headers=FORWARDED, **load),
    ]
    ceiling = stack.enter_context(nginx_static(workdir, body=home))
    results.append(wrk("ceiling: nginx, same bytes", f"{ceiling}/", headers={}, **load))
    hello = stack.enter_context(hello_gunicorn(workdir))
    results.append(wrk("hello: Django on stock gunicorn", f"{hello}/", headers={}, **load))
    dev = stack.enter_context(runserver(workdir, env=env))
    results.append(wrk("original: runserver, same page", f"{dev}/", headers=FORWARDED, **load))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="Lighthouse only, no wrk")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(
                f"error: {tool}: not installed\nhint: run scripts/system-packages.sh",
                file=sys.stderr,
            )
            return 1
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}  {platform.node()}  {os.cpu_count()} CPUs  "
        f"{platform.platform()}  load {os.getloadavg()[0]:.2f}"
    )
    print(f"wrk: 2 threads, {args.connections} connections, {args.duration} s per target")
    load = {"connections": args.connections, "duration": args.duration}
    with tempfile.TemporaryDirectory(prefix="cloudsite-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        env = site_env(workdir)
        ours = stack.enter_context(site_gunicorn(workdir, env=env))
        if not args.no_load:
            results = load_everything(stack, workdir=workdir, env=env, ours=ours, load=load)
            print_table(results, reference=results[0])
        if not args.no_lighthouse:
            lighthouse(f"{ours}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
