"""gunicorn settings for every environment; the environment variables below override them.

https://docs.gunicorn.org/en/stable/settings.html

    PORT                 listen port (bind 0.0.0.0:PORT); `make run` passes --bind itself
    WEB_CONCURRENCY      worker processes (default: 2 x CPUs + 1)
    GUNICORN_THREADS     threads per worker (default 4)
"""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Workers follow the CPU count. gthread workers keep connections alive, which a load balancer
# reuses; the sync worker closes every connection after one request.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Timeouts that suit an ALB: its idle timeout is 60 s, so keep-alive must outlast it,
# or the ALB reuses a connection gunicorn just closed and the client sees a 502.
keepalive = 75
timeout = 30
# SIGTERM: stop accepting, finish in-flight requests for up to this long, then exit.
graceful_timeout = 25

# Refuse oversized request lines and headers early.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The app logs each request as JSON (config.middleware); gunicorn's own lines are JSON too.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
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
