"""A package index on loopback for image builds: the wheels of requirements/site.txt.

Why: this machine reaches PyPI through a TLS-intercepting proxy whose certificate the host
trusts (PIP_CERT) but a fresh Debian image does not. The Dockerfile takes PIP_INDEX_URL for
exactly such cases (a mirror, CodeArtifact); the image still installs with --require-hashes,
so it gets byte-for-byte the files the lock names. The host's pip downloads them once into
.cache/wheelhouse (keyed by the lock's hash) and a thread serves them as a PEP 503 index.
"""

import contextlib
import hashlib
import http.server
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from tests.support.servers import ROOT, serving

LOCK = ROOT / "requirements" / "site.txt"
# The image's interpreter: Debian trixie's CPython 3.13 on x86-64 (manylinux wheels).
_TARGET = [
    "--python-version=3.13",
    "--implementation=cp",
    "--abi=cp313",
    "--abi=abi3",
    "--abi=none",
    "--platform=manylinux_2_28_x86_64",
    "--platform=manylinux_2_17_x86_64",
    "--platform=manylinux2014_x86_64",
    "--platform=any",
]


def wheelhouse() -> Path:
    """The simple/ tree for the current lock, downloading the wheels the first time."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    root = ROOT / ".cache" / "wheelhouse" / digest
    if (root / "simple").is_dir():
        return root
    wheels = root.with_suffix(".download")
    shutil.rmtree(wheels, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps",
         "--require-hashes", *_TARGET, "--dest", str(wheels), "--requirement", str(LOCK)],
        check=True,
        timeout=600,
    )  # fmt: skip
    for wheel in wheels.glob("*.whl"):
        project = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
        (wheels / "simple" / project).mkdir(parents=True, exist_ok=True)
        wheel.rename(wheels / "simple" / project / wheel.name)
    wheels.rename(root)
    return root


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def package_index() -> Iterator[str]:
    """Serve the wheelhouse on a free loopback port; yields the index URL for PIP_INDEX_URL."""
    handler = partial(_QuietHandler, directory=str(wheelhouse()))
    with serving(handler) as server:
        yield f"http://127.0.0.1:{server.server_port}/simple/"
