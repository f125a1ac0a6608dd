"""gunicorn's settings in the image (`gunicorn --config python:cloudsite.runtime.gunicorn_conf`);
the environment variables below override them.

https://docs.gunicorn.org/en/stable/settings.html

    PORT                 listen port (bind 0.0.0.0:PORT)
    WEB_CONCURRENCY      worker processes (default: one per CPU)
    GUNICORN_THREADS     threads per worker (default 1: sync workers; more than 1: gthread
                         workers with that many threads, for views that wait on I/O; WSGI only)

The default, sync workers one per CPU, was chosen by measurement (bench/site.py's sweep,
docs/benchmarks.md): the best tail latency and throughput for pages that use the CPU, our
page and a bare hello alike. A sync worker answers with `Connection: close`, so the kernel,
not a worker's keep-alive, spreads the load balancer's requests across the workers.

The application is the layer's (cloudsite.runtime.wsgi, or .asgi when project.json's "server"
says the project has only an ASGI application), which imports the project's own.
"""

import multiprocessing
import os
from typing import Any

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# One worker per CPU: more sync workers only queue for the same CPUs (and lengthen the tail).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))


def _server() -> str:
    from cloudsite.runtime.production import load_project

    try:
        return str(load_project().get("server", "wsgi"))
    except FileNotFoundError:
        return "wsgi"


if _server() == "asgi":
    # An ASGI project (no WSGI application): uvicorn's event loop in each gunicorn worker.
    wsgi_app = "cloudsite.runtime.asgi:application"
    worker_class = "uvicorn_worker.UvicornWorker"
else:
    wsgi_app = "cloudsite.runtime.wsgi:application"
    threads = int(os.environ.get("GUNICORN_THREADS", "1"))
    # gthread keeps connections alive and parks idle ones in a poller; each connection stays
    # with the worker that accepted it, which is what makes its tail longer under even load.
    worker_class = "gthread" if threads > 1 else "sync"

# Timeouts that suit an ALB: its idle timeout is 60 s, so a keep-alive (gthread) must outlast
# it, or the ALB reuses a connection gunicorn just closed and the client sees a 502. The sync
# worker keeps no connection open: it says `Connection: close`, and the ALB opens a new one.
keepalive = 75
timeout = 30
# SIGTERM: stop accepting, finish in-flight requests for up to this long, then exit.
graceful_timeout = 25

# Refuse oversized request lines and headers early.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The layer logs each request as JSON (cloudsite.runtime.front); gunicorn's own lines too.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cloudsite.runtime.jsonlog.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": False},
    },
}
# gunicorn 25+ opens a control socket (~/.gunicorn/gunicorn.ctl) that can resize or stop the
# server. Nothing here uses it; off, it is one less door, and instances on one host (tests,
# benchmarks) no longer fight over the same path.
control_socket_disable = True

# Load the app before forking: workers share its memory and a broken app fails at start.
preload_app = True

# `bin/start` sets these in the image: where the master writes its pid (so `start reload` can
# signal it) and, when secrets come through a pipe, where a reload receives the new ones.
pidfile = os.environ.get("GUNICORN_PIDFILE") or None


def on_reload(server: Any) -> None:
    """SIGHUP (from `start reload`): take the new secrets before the new workers start. On a
    failure the master keeps the secrets it has, and the new workers start with those."""
    fifo = os.environ.get("CLOUDSITE_RELOAD_FIFO")
    if not fifo:
        return
    from cloudsite.runtime.secretpipe import SecretsError, receive

    try:
        records = receive(fifo, timeout=float(os.environ.get("CLOUDSITE_RELOAD_WAIT", "30")))
    except (SecretsError, OSError) as error:
        server.log.error("secrets: not reloaded: %s", error)
        return
    os.environ.update(records)
    server.log.info("secrets: %d received; new workers take them", len(records))


def post_fork(server: Any, worker: Any) -> None:
    """Every worker points Django at the secrets the master holds now (secretpipe.py)."""
    from cloudsite.runtime.secretpipe import apply_environment

    apply_environment()
