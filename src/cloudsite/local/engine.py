"""The container engine `cloudsite local` runs on: the one `cloudsite build` chooses (Docker
when a daemon answers, else podman). The deploy hooks call `docker`, as on EC2; with podman
they find a `docker` of the rehearsal's own first on their PATH, which runs podman."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cloudsite.errors import UsageError

SHIM = (
    "#!/bin/sh\n# cloudsite local: the deploy hooks call docker; this machine has podman.\n"
    'exec podman "$@"\n'
)


@dataclass(frozen=True)
class LocalEngine:
    kind: str  # docker | podman
    env: dict[str, str]  # the hooks' environment: PATH finds `docker`
    shim: bool = False  # podman only: the hooks need a `docker` that runs it

    def install_shim(self, folder: Path) -> None:
        """Write the `docker` the hooks find first on their PATH (folder/bin/docker)."""
        shim = folder / "bin"
        shim.mkdir(parents=True, exist_ok=True)
        (shim / "docker").write_text(SHIM)
        (shim / "docker").chmod(0o755)

    def run(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 (the engine's own CLI)
            [self.kind, *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise UsageError(
                f"{self.kind} {args[0]}",
                (result.stderr.strip().splitlines() or ["failed"])[-1],
                hint="the container engine refused; `cloudsite local down` clears what was made",
            )
        return result


def local_engine(folder: Path) -> LocalEngine:
    """The engine, or a one-line error naming what to install. Makes nothing: with podman,
    `install_shim` writes the hooks' `docker` into folder/bin."""
    from cloudsite.runtime.build import BuildError, choose_engine

    try:
        kind = choose_engine()
    except BuildError as error:
        raise UsageError(
            "local",
            error.what,
            hint="install podman (apt-get install podman) or Docker; podman in a sandbox also "
            "needs the containers.conf settings in docs/local.md",
        ) from None
    # The engine and the hooks never need createsuperuser's values: they stay in this process
    # (cloudsite.local.manage hands them to the one-off alone, through a 0600 file).
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SUPERUSER_")}
    if kind == "podman" and not _docker_answers():
        env["PATH"] = f"{folder / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.pop("DOCKER_HOST", None)
        return LocalEngine(kind=kind, env=env, shim=True)
    return LocalEngine(kind=kind, env=env)


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    found = subprocess.run(["docker", "version"], capture_output=True, timeout=30, check=False)  # noqa: S607
    return found.returncode == 0


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port (the rehearsal publishes only on loopback)."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
