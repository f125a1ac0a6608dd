"""Image figures for docs/benchmarks.md, for a `django-admin startproject` project and for the
reference site: the cold build, a rebuild after a one-file change, the image's size, and the
time from `docker run` to a healthy /healthz. Prints them; asserts nothing.

    .venv/bin/python bench/image.py [--runs N]

Every build is `cloudsite build`, run in the project's folder as a user runs it, on the engine
the tests use (Docker, or podman's service) with the local Debian base (no registry answers
here). "Cold" is `--no-cache`: every layer rebuilt, Debian's Python and the dependencies
downloaded again; the base image itself is present.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.corpus import startproject  # noqa: E402
from tests.support.engine import Engine, start_engine  # noqa: E402
from tests.support.layer import WANDERPAGE  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

CLOUDSITE = ROOT / ".venv" / "bin" / "cloudsite"
PROJECTS = {
    "startproject": ("mysite/urls.py", lambda dest: startproject(dest)),
    "wanderpage": ("travel/views.py", lambda dest: shutil.copytree(WANDERPAGE, dest)),
}


def cloudsite_build(
    engine: Engine, project: Path, *tags: str, cold: bool = False
) -> tuple[str, float]:
    started = time.monotonic()
    argv = [str(CLOUDSITE), "build", "--tag", tags[0], *(["--no-cache"] if cold else [])]
    result = subprocess.run(
        argv,
        cwd=project,
        env=engine.script_env(BASE_IMAGE=engine.base_image),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    return result.stdout.strip(), time.monotonic() - started


def healthy_seconds(engine: Engine, image: str) -> float:
    port = free_port()
    name = engine.name(f"bench-{port}")
    started = time.monotonic()
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
        "--security-opt",
        "no-new-privileges",
        "--publish",
        f"127.0.0.1:{port}:8000",
        "-e",
        "DJANGO_SECRET_KEY=bench-only-not-secret-" + "x" * 40,
        image,
    )
    try:
        while time.monotonic() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("/healthz never answered")
    finally:
        engine.docker("rm", "--force", name, check=False)


def measure(engine: Engine, tmp: Path, name: str, runs: int) -> None:
    changed, make = PROJECTS[name]
    project = tmp / name
    make(project)
    image, cold = cloudsite_build(engine, project, "cold", cold=True)
    with open(project / changed, "a") as handle:
        handle.write("\n# a one-line change, for the rebuild benchmark\n")
    _, rebuild = cloudsite_build(engine, project, "rebuild")
    local = image  # as the engine that built it names it
    size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", local).stdout)
    samples = [healthy_seconds(engine, local) for _ in range(runs)]
    print(f"{name}:")
    print(f"  image size (uncompressed):          {size / 1e6:.1f} MB")
    print(f"  cold build (cloudsite build --no-cache): {cold:.1f} s")
    print(f"  rebuild after changing {changed}: {rebuild:.1f} s")
    print(
        f"  docker run -> healthy /healthz:     median {statistics.median(samples):.2f} s,"
        f" max {max(samples):.2f} s ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="docker run -> healthy samples")
    runs = parser.parse_args().runs
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_engine(Path(tmp), insecure_registries=[]) as engine,
    ):
        if engine is None:
            sys.exit("error: no container engine; hint: run scripts/podman.sh setup")
        print(f"engine: {engine.kind}")
        for name in PROJECTS:
            measure(engine, Path(tmp), name, runs)


if __name__ == "__main__":
    main()
