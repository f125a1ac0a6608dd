"""A project with no WSGI application is served by its ASGI one: uvicorn's workers under
gunicorn (uvicorn-worker, from the layer's own lock), with the same front: health before
Django, the headers, the request log. And a project's own build_command runs in the build."""

import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.test_image import http_get, wait_healthy
from tests.support.corpus import startproject
from tests.support.engine import Engine
from tests.support.images import build
from tests.support.servers import ROOT, free_port

pytestmark = pytest.mark.engine


def asgi_only(root: Path) -> Path:
    startproject(root)
    (root / "mysite" / "wsgi.py").unlink()
    settings = root / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            "WSGI_APPLICATION = 'mysite.wsgi.application'",
            "ASGI_APPLICATION = 'mysite.asgi.application'",
        )
    )
    return root


def test_an_asgi_only_project_runs_on_uvicorn_workers_behind_the_front(
    engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    root = asgi_only(tmp_path / "asgi")
    (root / "cloudsite.toml").write_text(
        'name = "asgi"\nbuild_command = "python manage.py check"\n'
    )
    image = build(engine, root, image=f"{engine.name('asgi')}:v1", env=build_env)
    port, name = free_port(), engine.name(f"asgi-{time.monotonic_ns()}")
    engine.docker(
        "run",
        "--detach",
        "--name",
        name,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--publish",
        f"127.0.0.1:{port}:8000",
        "-e",
        "DJANGO_SECRET_KEY=cstest-" + "a" * 50,
        "-e",
        "DJANGO_ALLOWED_HOSTS=www.example.test",
        "-e",
        "WEB_CONCURRENCY=2",
        image,
    )
    try:
        wait_healthy(port)
        assert http_get(f"http://127.0.0.1:{port}/readyz", host="10.0.3.7")[0] == 200
        status, page = http_get(f"http://127.0.0.1:{port}/admin/login/", host="www.example.test")
        assert status == 200 and b"Django administration" in page
        logs = engine.docker("logs", name)
        assert "uvicorn_worker.UvicornWorker" in logs.stdout + logs.stderr
        assert '"path": "/admin/login/", "status": 200' in logs.stdout
    finally:
        engine.docker("rm", "--force", name, check=False)


def test_a_failing_build_command_fails_the_build_in_one_line(
    engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    root = startproject(tmp_path / "mysite")
    (root / "cloudsite.toml").write_text(
        'name = "mysite"\nbuild_command = "python manage.py test nothere"\n'
    )
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cloudsite"), "build", "--tag", "failing"],
        cwd=root,
        env=engine.script_env(**build_env, CLOUDSITE_ENGINE="podman"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: build: build_command failed (exit 1): python manage.py test nothere"]
