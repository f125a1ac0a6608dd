"""Image figures for docs/benchmarks.md: size, cold build, rebuild after a one-file change, and
the time from `docker run` to a healthy /healthz. Prints them; asserts nothing.

    .venv/bin/python bench/image.py [--runs N]

It builds with site/bin/build on the engine the tests use (Docker, or podman's service) with
the local Debian base and the loopback package index (see tests/support/wheelhouse.py).
"""

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.engine import Engine, start_engine  # noqa: E402
from tests.support.images import build, source_tree  # noqa: E402
from tests.support.servers import free_port  # noqa: E402
from tests.support.wheelhouse import package_index  # noqa: E402

CHANGED_FILE = Path("site") / "travel" / "views.py"


def timed_build(
    engine: Engine, source: Path, *, image: str, env: dict[str, str], cold: bool
) -> float:
    started = time.monotonic()
    build(engine, source, image=image, env=env, no_cache=cold)
    return time.monotonic() - started


def healthy_seconds(engine: Engine, image: str) -> float:
    port = free_port()
    name = engine.name(f"bench-{port}")
    started = time.monotonic()
    engine.docker(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--publish", f"127.0.0.1:{port}:8000",
        "-e", "DJANGO_SECRET_KEY=bench-only-not-secret", image,
    )  # fmt: skip
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
        with package_index() as index:
            env = {
                "BASE_IMAGE": engine.base_image,
                "PIP_INDEX_URL": index,
                "CLOUDSITE_BUILD_NETWORK": "host",
            }
            source = source_tree(Path(tmp) / "repo", release="bench")
            image = f"{engine.name('bench')}:1"
            cold = timed_build(engine, source, image=image, env=env, cold=True)
            with open(source / CHANGED_FILE, "a") as changed:
                changed.write("\n# a one-line change, for the rebuild benchmark\n")
            rebuild = timed_build(
                engine, source, image=f"{engine.name('bench')}:2", env=env, cold=False
            )
            size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
            samples = [healthy_seconds(engine, image) for _ in range(runs)]
    print(f"engine:                               {engine.kind}")
    print(f"image size (uncompressed):            {size / 1e6:.1f} MB")
    print(f"cold build (--no-cache):              {cold:.1f} s")
    print(f"rebuild after changing {CHANGED_FILE}: {rebuild:.1f} s")
    print(
        f"docker run -> healthy /healthz:       median {statistics.median(samples):.2f} s,"
        f" max {max(samples):.2f} s ({runs} runs)"
    )


if __name__ == "__main__":
    main()
