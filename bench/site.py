"""The site under load, beside three references, in one run on one machine. Prints figures.

    .venv/bin/python bench/site.py [--duration 10] [--connections 32] [--sweep-duration 5]
                                   [--no-sweep] [--no-foreign] [--no-lighthouse]

What runs (each on a free loopback port, all stopped at the end):
  ours       the reference site through the runtime layer, as the image serves it (gunicorn
             with cloudsite.runtime.gunicorn_conf, the production settings layer, the front):
             /, /healthz and a hashed static file (the hero's AVIF), as the load balancer
             sends them (X-Forwarded-Proto: https, so no redirect)
  ceiling    nginx serving the home page's rendered bytes as a static file
  hello      a bare Django "hello" view on the image's exact gunicorn configuration (like for
             like), and on stock gunicorn (one sync worker), the first version's reference
  runserver  the original design: Django's development server on the same home page

Then the sweep: each worker model in SWEEP (gunicorn sync and gthread, and Granian, an
alternative server) serves our home page and hello, at 32 and 128 connections, with keep-alive
and without; then a like-for-like summary and hello's best configuration. Then a foreign page:
`django-admin startproject`'s /admin/login/ served by the project alone and through the layer,
which gives the layer's overhead.

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
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.layer import WANDERPAGE as SITE  # noqa: E402
from tests.support.layer import layer_env  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

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
            with suppress(ProcessLookupError):  # it may have exited on its own
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


# ---------------------------------------------------------------------------- server configurations
@dataclass(frozen=True)
class Server:
    """One way to serve a WSGI application. `default` is the image's own configuration,
    cloudsite.runtime.gunicorn_conf as it is; the others override only the worker model."""

    name: str
    kind: str = "gunicorn"  # or "granian"
    worker_class: str = ""
    workers: int = 0
    threads: int = 0

    def argv(self, app: str, port: int) -> list[str]:
        if self.kind == "granian":
            return [
                str(granian()), "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(self.workers),
                "--blocking-threads", str(self.threads or 1), "--no-ws", app,
            ]  # fmt: skip
        # Every gunicorn, hello's too, reads the image's configuration file: the same
        # keep-alive, timeouts, logging and preload. Only what the sweep varies is overridden.
        argv = [
            PYTHON, "-m", "gunicorn", "--config", "python:cloudsite.runtime.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        if self.worker_class:
            argv += ["--worker-class", self.worker_class]
            argv += ["--workers", str(self.workers), "--threads", str(self.threads or 1)]
        return [*argv, app]


CORES = os.cpu_count() or 2
DEFAULT = Server("default (the image's gunicorn_conf)")
SWEEP = (
    Server(f"gunicorn sync w={CORES}", worker_class="sync", workers=CORES),
    Server(f"gunicorn sync w={2 * CORES}", worker_class="sync", workers=2 * CORES),
    Server(f"gunicorn sync w={2 * CORES + 1}", worker_class="sync", workers=2 * CORES + 1),
    Server(f"gunicorn gthread w={CORES} t=1", worker_class="gthread", workers=CORES, threads=1),
    Server(f"gunicorn gthread w={CORES} t=2", worker_class="gthread", workers=CORES, threads=2),
    Server(f"gunicorn gthread w={CORES} t=4", worker_class="gthread", workers=CORES, threads=4),
    Server(
        f"gunicorn gthread w={2 * CORES + 1} t=4",
        worker_class="gthread",
        workers=2 * CORES + 1,
        threads=4,
    ),
    Server(f"granian wsgi w={CORES}", kind="granian", workers=CORES),
)
GRANIAN = "granian==2.8.9"  # the alternative server: Rust, well kept; for the sweep only


def granian() -> Path:
    """Granian in a virtualenv of its own under .cache/ (it is no dependency of ours) that
    also sees .venv's packages, cloudsite's editable install included (a .pth file)."""
    venv = ROOT / ".cache" / "bench" / GRANIAN.replace("==", "-")
    if not (venv / "bin" / "granian").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", GRANIAN], check=True)
        paths = ("import sysconfig; print(sysconfig.get_paths()['purelib'])",)
        ours, theirs = (
            subprocess.run(
                [python, "-c", *paths], capture_output=True, text=True, check=True
            ).stdout.strip()
            for python in (PYTHON, str(venv / "bin" / "python"))
        )
        Path(theirs, "cloudsite-bench.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return venv / "bin" / "granian"


@contextmanager
def serve(server: Server, *, app: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    if server.kind == "granian":  # gunicorn puts its working folder on the path; granian not
        env = {
            **env,
            "PYTHONPATH": os.pathsep.join(p for p in (str(cwd), env.get("PYTHONPATH")) if p),
        }
    with serving(server.argv(app, port), port=port, log=log, cwd=cwd, env=env) as url:
        yield url


@contextmanager
def site_gunicorn(workdir: Path, *, env: dict[str, str]) -> Iterator[str]:
    with serve(
        DEFAULT, app="cloudsite.runtime.wsgi:application", cwd=SITE, env=env,
        log=workdir / "ours.log",
    ) as url:  # fmt: skip
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
import time

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False, SECRET_KEY="bench-only", ALLOWED_HOSTS=["127.0.0.1"], ROOT_URLCONF=__name__,
    MIDDLEWARE=[], INSTALLED_APPS=[],
)
def wait(request):
    time.sleep(0.02)  # a page that waits 20 ms on a database or another service
    return HttpResponse("waited")


urlpatterns = [path("", lambda request: HttpResponse("hello")), path("wait", wait)]
application = get_wsgi_application()
"""


def stock_env() -> dict[str, str]:
    """This environment without what tunes our server or configures a Django."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "GUNICORN_THREADS", "DATABASE_URL")
        and not k.startswith(("DJANGO_", "CLOUDSITE_"))
    }


def hello_dir(workdir: Path) -> Path:
    folder = workdir / "hello"
    if not folder.is_dir():
        folder.mkdir()
        (folder / "hello.py").write_text(HELLO)
    return folder


@contextmanager
def hello(workdir: Path, server: Server = DEFAULT) -> Iterator[str]:
    """The bare hello view on `server`: by default the image's exact gunicorn configuration."""
    with serve(
        server, app="hello:application", cwd=hello_dir(workdir), env=stock_env(),
        log=workdir / "hello.log",
    ) as url:  # fmt: skip
        yield url


@contextmanager
def hello_stock(workdir: Path) -> Iterator[str]:
    """gunicorn's defaults (one sync worker), as the first version of this benchmark ran it;
    only the control socket is off, so it cannot take over another gunicorn's."""
    port = free_port()
    argv = [PYTHON, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}"]
    with serving(
        [*argv, "hello:application"], port=port, log=workdir / "hello.log",
        cwd=hello_dir(workdir), env=stock_env(),
    ) as url:  # fmt: skip
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
    with nginx_static(workdir, body=home) as ceiling:
        results.append(wrk("ceiling: nginx, same bytes", f"{ceiling}/", headers={}, **load))
    with hello(workdir) as url:
        results.append(wrk("hello: same configuration as ours", f"{url}/", headers={}, **load))
    with hello_stock(workdir) as url:
        results.append(wrk("hello: stock gunicorn (1 sync)", f"{url}/", headers={}, **load))
    dev = stack.enter_context(runserver(workdir, env=env))
    results.append(wrk("original: runserver, same page", f"{dev}/", headers=FORWARDED, **load))
    return results


# ---------------------------------------------------------------------------- the sweep
CLOSE = {"Connection": "close"}  # keep-alive off: a new connection for every request


@dataclass(frozen=True)
class Point:
    server: Server
    target: str
    connections: int
    keepalive: bool
    result: Result


def sweep(
    workdir: Path, *, env: dict[str, str], duration: int, servers: tuple[Server, ...]
) -> list[Point]:
    """Each server configuration with our home page and with hello, at 32 and 128
    connections, with keep-alive and without. Prints each row as it is measured."""
    print(
        f"\nthe sweep: {duration} s per row\n{'server':30} {'target':6} {'conns':>5} "
        f"{'keep-alive':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'load':>6}"
    )
    points = []
    for server in servers:
        for target in ("ours", "hello"):
            if target == "ours":
                context = serve(
                    server, app="cloudsite.runtime.wsgi:application", cwd=SITE, env=env,
                    log=workdir / "sweep.log",
                )  # fmt: skip
                headers = FORWARDED
            else:
                context = hello(workdir, server)
                headers = {}
            with context as url:
                rows = [(target, "/", c, k) for c in (32, 128) for k in (True, False)]
                if target == "hello":  # and how many requests that wait it serves at once
                    rows.append(("wait", "/wait", 32, True))
                for name, path, connections, keepalive in rows:
                    result = wrk(
                        name, f"{url}{path}", connections=connections, duration=duration,
                        headers=headers if keepalive else {**headers, **CLOSE},
                    )  # fmt: skip
                    points.append(Point(server, name, connections, keepalive, result))
                    print(
                        f"{server.name:30} {name:6} {connections:5d} "
                        f"{'on' if keepalive else 'off':>10} "
                        f"{result.requests_per_second:8.0f} {result.p50_ms:8.2f} "
                        f"{result.p99_ms:8.2f} {result.errors:7d} {result.load:6.2f}",
                        flush=True,
                    )
    return points


def summarise(points: list[Point], *, default: tuple[Result, Result]) -> None:
    """Like for like: ours and hello on the same configuration, for each one, at 32
    connections with keep-alive (what the load balancer sends); then hello's best."""

    def at(server: Server, target: str, keepalive: bool = True) -> Result:
        return next(
            p.result
            for p in points
            if p.server == server and p.target == target and p.connections == 32
            and p.keepalive == keepalive
        )  # fmt: skip

    print(f"\nlike for like, 32 connections, keep-alive on\n{'server':36} {'ours':>7} "
          f"{'hello':>7} {'ratio':>6} {'ours p99':>9} {'hello p99':>9} {'wait':>7}")  # fmt: skip
    ours, plain = default
    print(
        f"{DEFAULT.name:36} {ours.requests_per_second:7.0f} {plain.requests_per_second:7.0f} "
        f"{ours.requests_per_second / plain.requests_per_second:5.2f}x {ours.p99_ms:9.2f} "
        f"{plain.p99_ms:9.2f}"
    )
    for server in (s for s in SWEEP if any(p.server == s for p in points)):
        o, h, w = at(server, "ours"), at(server, "hello"), at(server, "wait")
        print(
            f"{server.name:36} {o.requests_per_second:7.0f} {h.requests_per_second:7.0f} "
            f"{o.requests_per_second / h.requests_per_second:5.2f}x {o.p99_ms:9.2f} "
            f"{h.p99_ms:9.2f} {w.requests_per_second:7.0f}"
        )
    best = max(
        (p for p in points if p.target == "hello" and p.connections == 32 and p.keepalive),
        key=lambda p: p.result.requests_per_second,
    )
    theirs = at(best.server, "ours")
    print(
        f"hello's best: {best.server.name}, {best.result.requests_per_second:.0f} req/s "
        f"(p99 {best.result.p99_ms:.2f} ms); ours there {theirs.requests_per_second:.0f} "
        f"req/s, {theirs.requests_per_second / best.result.requests_per_second:.2f}x; "
        f"ours on the default vs hello's best: "
        f"{ours.requests_per_second / best.result.requests_per_second:.2f}x"
    )


# ---------------------------------------------------------------------------- a foreign page
PLAIN_SETTINGS = """
from mysite.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
"""
FOREIGN_PAGE = "/admin/login/"  # startproject has no "/" of its own: with DEBUG off, a 404


def foreign(workdir: Path, *, duration: int, rounds: int = 3) -> None:
    """A `django-admin startproject` page served by the image's gunicorn configuration twice:
    by the project's own WSGI application and settings (DEBUG off), and through the layer (the
    production settings, the front: health wrapper, headers, the JSON request log). The two
    alternate, `rounds` times each, and the medians are compared."""
    from tests.support.corpus import startproject

    project = startproject(workdir / "foreign" / "mysite")
    (workdir / "foreign" / "plain").mkdir()
    (workdir / "foreign" / "plain" / "plain_settings.py").write_text(PLAIN_SETTINGS)
    plain = {
        **stock_env(),
        "DJANGO_SETTINGS_MODULE": "plain_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir / "foreign" / "plain"), str(project)]),
    }
    layered = layer_env(project, workdir / "foreign" / "layer")
    layered.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="127.0.0.1")
    for env, commands in ((plain, ["migrate"]), (layered, ["migrate", "collectstatic"])):
        for command in commands:
            subprocess.run(
                [PYTHON, "manage.py", command, "--no-input"],
                cwd=project, env=env, check=True, capture_output=True,
            )  # fmt: skip
    ways = {
        "alone": ("mysite.wsgi:application", plain),
        "layer": ("cloudsite.runtime.wsgi:application", layered),
    }
    results: dict[tuple[str, bool], list[Result]] = {}
    for _ in range(rounds):
        for name, (app, env) in ways.items():
            with serve(DEFAULT, app=app, cwd=project, env=env, log=workdir / "foreign.log") as url:
                assert fetch(url + FOREIGN_PAGE, headers=FORWARDED), f"{name}: no page"
                for keepalive in (True, False):
                    results.setdefault((name, keepalive), []).append(
                        wrk(
                            name,
                            url + FOREIGN_PAGE,
                            connections=32,
                            duration=duration,
                            headers=FORWARDED if keepalive else {**FORWARDED, **CLOSE},
                        )
                    )

    def median(runs: list[Result]) -> Result:
        return sorted(runs, key=lambda r: r.requests_per_second)[len(runs) // 2]

    print(f"\nstartproject {FOREIGN_PAGE}, {DEFAULT.name}, 32 connections, median of {rounds}")
    for keepalive in (True, False):
        alone, layer = (median(results[name, keepalive]) for name in ways)
        overhead = 1 - layer.requests_per_second / alone.requests_per_second
        runs = {
            n: "/".join(f"{r.requests_per_second:.0f}" for r in results[n, keepalive]) for n in ways
        }
        print(
            f"  keep-alive {'on ' if keepalive else 'off'}  alone {alone.requests_per_second:5.0f} "
            f"req/s (p99 {alone.p99_ms:.2f} ms; {runs['alone']})  layer "
            f"{layer.requests_per_second:5.0f} req/s (p99 {layer.p99_ms:.2f} ms; {runs['layer']})"
            f"  overhead {overhead:.1%}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--sweep-duration", type=int, default=5, help="seconds per sweep row")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-sweep", action="store_true", help="no worker-model sweep")
    parser.add_argument("--only", default="", help="sweep only servers whose name has this")
    parser.add_argument("--no-foreign", action="store_true", help="no startproject page")
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
            if not args.no_sweep:
                servers = tuple(s for s in SWEEP if args.only in s.name)
                points = sweep(workdir, env=env, duration=args.sweep_duration, servers=servers)
                summarise(points, default=(results[0], results[4]))
            if not args.no_foreign:
                foreign(workdir, duration=args.duration)
        if not args.no_lighthouse:
            lighthouse(f"{ours}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
