"""gunicorn's settings in the image (cloudsite.runtime.gunicorn_conf), read as gunicorn reads
the file: which application and worker it picks for the project, what the environment
overrides, and the timeouts a load balancer needs. (Served for real: test_server.py.)"""

import importlib.util
import json
import os
import runpy
from pathlib import Path
from typing import Any

import pytest

# The file, not the module: importing it would read this process's environment once, for good.
_SPEC = importlib.util.find_spec("cloudsite.runtime.gunicorn_conf")
assert _SPEC is not None and _SPEC.origin is not None
CONF = Path(_SPEC.origin)


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """read(server=..., **env): the config's values for a project.json with that "server"
    (None: no project.json at all) and those environment variables."""

    def configured(server: str | None = "wsgi", **env: str) -> dict[str, Any]:
        for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_PIDFILE"):
            monkeypatch.delenv(name, raising=False)
        document = tmp_path / "project.json"
        if server is not None:
            document.write_text(json.dumps({"server": server}))
        monkeypatch.setenv("CLOUDSITE_PROJECT_FILE", str(document))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONF))

    return configured


def test_a_wsgi_project_is_served_by_the_layer_s_front_on_sync_workers_one_per_cpu(
    read: Any,
) -> None:
    config = read("wsgi")
    assert config["wsgi_app"] == "cloudsite.runtime.wsgi:application"
    assert (config["worker_class"], config["threads"]) == ("sync", 1)
    assert config["workers"] == (os.cpu_count() or 1)


def test_more_than_one_thread_switches_to_gthread_workers(read: Any) -> None:
    assert read("wsgi", GUNICORN_THREADS="4")["worker_class"] == "gthread"
    assert read("wsgi", GUNICORN_THREADS="1")["worker_class"] == "sync"


def test_an_asgi_project_is_served_by_the_layer_s_asgi_front_on_uvicorn_workers(
    read: Any,
) -> None:
    config = read("asgi")
    assert config["wsgi_app"] == "cloudsite.runtime.asgi:application"
    assert config["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert "threads" not in config


def test_without_a_project_file_the_server_is_wsgi(read: Any) -> None:
    assert read(None)["wsgi_app"] == "cloudsite.runtime.wsgi:application"


def test_the_environment_sets_the_port_the_workers_and_the_threads(read: Any) -> None:
    config = read(PORT="8123", WEB_CONCURRENCY="3", GUNICORN_THREADS="8", GUNICORN_PIDFILE="/p")
    assert config["bind"] == "0.0.0.0:8123"
    assert (config["workers"], config["threads"], config["pidfile"]) == (3, 8, "/p")
    assert read()["bind"] == "0.0.0.0:8000"
    assert read()["pidfile"] is None


def test_keepalive_outlasts_the_load_balancers_idle_timeout(read: Any) -> None:
    config = read()
    # The ALB keeps idle connections 60 s; a server that closes first causes 502s.
    assert config["keepalive"] > 60
    # SIGTERM's grace ends before a worker's timeout would kill it anyway.
    assert config["graceful_timeout"] < config["timeout"]


def test_the_front_logs_requests_and_gunicorn_logs_json(read: Any) -> None:
    config = read()
    assert config["accesslog"] is None  # the front writes the one request line
    handler = config["logconfig_dict"]["handlers"]["stdout"]
    formatter = config["logconfig_dict"]["formatters"][handler["formatter"]]
    assert formatter["()"] == "cloudsite.runtime.jsonlog.JsonFormatter"
    assert config["preload_app"] is True
