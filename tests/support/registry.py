"""An image registry on loopback in ECR's place: Debian's docker-registry, plain HTTP.

It is addressed as localhost:PORT, because podman's login endpoint skips TLS only for
`localhost` registries, and its registries.conf (engine.podman_service) marks the same
address insecure for pushes and pulls.
"""

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from tests.support.servers import free_port, running


def registry_available() -> bool:
    return shutil.which("docker-registry") is not None


@contextlib.contextmanager
def local_registry(tmp: Path, *, port: int | None = None) -> Iterator[str]:
    """Run docker-registry with filesystem storage under tmp; yields "localhost:PORT"."""
    port = port or free_port()
    config = tmp / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    with running(["docker-registry", "serve", str(config)], port=port, log=tmp / "registry.log"):
        yield f"localhost:{port}"
