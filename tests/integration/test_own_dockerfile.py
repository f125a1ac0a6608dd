"""A project that brings its own Dockerfile (`dockerfile = "Dockerfile"`): cloudsite builds it
with the project as the context, adds only its start script on top, and the hooks' contract
holds: `web` runs the image's own command once the secrets arrive through the pipe, and
`docker inspect` never shows them.

The Dockerfile is a user's own, in the plainest form: Debian's Django and gunicorn packages,
on the same Debian base the other suites use (no registry answers here)."""

import json
import time
from pathlib import Path

import pytest

from tests.integration.test_image import http_get, wait_healthy
from tests.integration.test_rollout import site_environment
from tests.support.corpus import startproject
from tests.support.engine import Engine
from tests.support.images import build
from tests.support.servers import free_port

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM {base}
RUN apt-get update && apt-get install -y --no-install-recommends python3-django gunicorn \\
    && rm -rf /var/lib/apt/lists/*
COPY . /srv/site
WORKDIR /srv/site
USER 10001
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "mysite.wsgi"]
"""
# The contract's health answers, which an image of the project's own must give itself.
HEALTH = """
from django.http import HttpResponse
urlpatterns += [path("healthz", lambda r: HttpResponse("ok")), path("readyz", lambda r: HttpResponse("ok"))]
"""  # noqa: E501


def test_an_own_dockerfile_runs_its_own_command_with_the_secrets_from_the_pipe(
    engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    root = startproject(tmp_path / "own")
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=engine.base_image))
    (root / "mysite" / "urls.py").write_text((root / "mysite" / "urls.py").read_text() + HEALTH)
    (root / "cloudsite.toml").write_text('name = "own"\ndockerfile = "Dockerfile"\n')
    image = build(engine, root, image=f"{engine.name('own')}:v1", env=build_env)
    config = json.loads(engine.docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/opt/cloudsite/bin/start"]
    assert config["User"] == "10001" and config["WorkingDir"] == "/srv/site"
    assert any(e.startswith("CLOUDSITE_OWN_COMMAND=gunicorn --bind") for e in config["Env"])

    port, name = free_port(), engine.name(f"own-{time.monotonic_ns()}")
    key = "cstest-own-" + "s" * 40
    engine.docker(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        "--publish", f"127.0.0.1:{port}:8000", "-e", "CLOUDSITE_SECRETS=pipe", image, "web",
    )  # fmt: skip
    try:
        engine.docker(
            "exec", "--interactive", name, "/opt/cloudsite/bin/start", "secrets",
            input=f"DJANGO_SECRET_KEY={key}\0\0",
        )  # fmt: skip
        wait_healthy(port)
        status, page = http_get(f"http://127.0.0.1:{port}/admin/login/", host="127.0.0.1")
        assert status == 200 and b"Django" in page
        assert site_environment(engine, name).get("DJANGO_SECRET_KEY") == key
        assert key not in engine.docker("inspect", name).stdout
    finally:
        engine.docker("rm", "--force", name, check=False)
