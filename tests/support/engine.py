"""A container engine for the engine suites, reached through the `docker` CLI as the scripts do.

Docker when a daemon answers; otherwise podman, behind `podman system service` on a socket in
a temporary directory, with DOCKER_HOST pointing at it (see /work/shared/notes/containers.md).
Everything a session creates is named `cstest-c4-<pid>-...`; `Engine.cleanup` removes exactly
that, and resources left by sessions that died (their pid is gone) are removed at start.
"""

import contextlib
import functools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, stop

PREFIX = "cstest-c4"
# A service with nothing to do exits after this many seconds unless told otherwise (0 = never).
_SERVICE_TIMEOUT = "0"


@dataclass(frozen=True)
class Engine:
    """The `docker` CLI pointed at one engine, and the environment scripts need to use it."""

    kind: str  # "docker" or "podman"
    env: dict[str, str]
    base_image: str
    session: str  # the name prefix of everything this session creates

    def docker(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 300,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["docker", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    def run_once(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """`docker run` to completion, then remove the container. Not `--rm`: podman's Docker
        API reports exit status 0 for a --rm container, whatever the process returned."""
        name = self.name(f"once-{time.monotonic_ns()}")
        try:
            return self.docker("run", "--name", name, *args, input=input, check=False)
        finally:
            self.docker("rm", "--force", name, check=False)

    def name(self, suffix: str) -> str:
        """A container or image name in this session's namespace."""
        return f"{self.session}{suffix}"

    def script_env(self, **extra: str) -> dict[str, str]:
        """The environment for a project script: this engine, the venv's tools (aws) first."""
        env = dict(self.env)
        env.update(extra)
        return env

    def cleanup(self) -> None:
        """Remove this session's containers, then its images (the layer cache stays)."""
        remove_session_resources(self, session=self.session)


def _ps_names(engine: Engine) -> list[str]:
    out = engine.docker("ps", "--all", "--format", "{{.Names}}", check=False).stdout
    return [n.strip() for n in out.splitlines() if n.strip()]


def _images(engine: Engine) -> list[tuple[str, str]]:
    """(repository:tag, id) of every image, including those pulled by digest (tag <none>)."""
    out = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", check=False)
    rows = []
    for line in out.stdout.splitlines():
        ref, _, image_id = line.partition(" ")
        if image_id:
            rows.append((ref, image_id))
    return rows


def remove_session_resources(engine: Engine, *, session: str) -> None:
    """Containers first, then images. Podman's Docker API may only untag an image that has
    several names, so images are listed and removed again until none is left (3 rounds)."""
    containers = [name for name in _ps_names(engine) if name.startswith(session)]
    if containers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            engine.docker("rm", "--force", *containers, check=False, timeout=300)
    for _ in range(3):
        images = {
            ref if not ref.endswith(":<none>") else id_
            for ref, id_ in _images(engine)
            if session in ref
        }
        if not images:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            engine.docker("image", "rm", "--force", *sorted(images), check=False, timeout=300)


def _remove_dead_sessions(engine: Engine) -> None:
    """Resources of earlier sessions of this suite whose process is gone (a crash, a kill)."""
    pattern = re.compile(rf"{PREFIX}-(\d+)-")
    names = _ps_names(engine) + [ref for ref, _ in _images(engine)]
    pids = {match.group(1) for name in names if (match := pattern.search(name))}
    for pid in pids:
        if not _alive(int(pid)):
            remove_session_resources(engine, session=f"{PREFIX}-{pid}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _docker_answers(env: dict[str, str]) -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.returncode == 0


def _base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_"))}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    # Logins the tests make stay in this directory, never in ~/.docker.
    env["DOCKER_CONFIG"] = str(tmp / "docker-config")
    return env


@contextlib.contextmanager
def podman_service(tmp: Path, *, insecure_registries: Sequence[str]) -> Iterator[str]:
    """`podman system service` on a socket under tmp; yields its DOCKER_HOST.

    Its registries.conf marks the test registries as plain HTTP (ECR's stand-in has no TLS).
    """
    registries = tmp / "registries.conf"
    lines = ["unqualified-search-registries = []"]
    for location in insecure_registries:
        lines += ["[[registry]]", f'location = "{location}"', "insecure = true"]
    registries.write_text("\n".join(lines) + "\n")
    socket = tmp / "podman.sock"
    env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=str(registries))
    log = open(tmp / "podman-service.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        ["podman", "system", "service", f"--time={_SERVICE_TIMEOUT}", f"unix://{socket}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not start; see {log.name}")
            time.sleep(0.05)
        yield f"unix://{socket}"
    finally:
        stop(proc)
        log.close()


def _podman_sh(*args: str) -> str | None:
    """What `scripts/podman.sh ARGS` prints (an image, built and imported first if need be);
    None when it cannot."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "podman.sh"), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def base_image() -> str | None:
    """The local Debian base (scripts/podman.sh builds and imports it once); None if it can't."""
    return _podman_sh("base")


@functools.cache
def python_stand_in(version: str) -> str | None:
    """Python X.Y's offline stand-in base (`scripts/podman.sh python X.Y`: Debian's own
    interpreter, from the suite runtime/pythons.toml names); None where none can be had."""
    return _podman_sh("python", version)


def python_env(version: str) -> dict[str, str]:
    """The build's environment for a project on Python X.Y here: BASE_IMAGE_3_Y naming its
    stand-in (skipped, or under CI failed, when none can be had)."""
    from cloudsite.runtime import pythons
    from tests.conftest import require

    image = python_stand_in(version)
    require(image is not None, f"an offline stand-in for Python {version} (scripts/podman.sh)")
    assert image is not None
    return {pythons.table()[version].variable: image}


@contextlib.contextmanager
def start_engine(tmp: Path, *, insecure_registries: Sequence[str]) -> Iterator[Engine | None]:
    """Docker if a daemon answers, else podman's service; None when neither can be had."""
    env = _base_env(tmp)
    session = f"{PREFIX}-{os.getpid()}-"
    base = base_image()
    if base is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        if _docker_answers(env):
            kind = "docker"
        elif shutil.which("podman"):
            kind = "podman"
            env["DOCKER_HOST"] = stack.enter_context(
                podman_service(tmp, insecure_registries=insecure_registries)
            )
        else:
            yield None
            return
        engine = Engine(kind=kind, env=env, base_image=base, session=session)
        _remove_dead_sessions(engine)
        try:
            yield engine
        finally:
            engine.cleanup()
