"""`cloudsite build`: the production image of the project in this folder, on this machine,
made exactly as CodeBuild makes it.

    1. package the source zip, as `up` does (the tree, the runtime layer, project.json)
    2. unpack it into a temporary folder: the tree CodeBuild unpacks
    3. run that tree's .cloudsite/runtime/build.py (the script the buildspec runs), with the
       engine's log in a file and a line per build step on stderr
    4. the image's name, its size and the build time

A problem of the project's ends the build with the one `error:` line the build stage printed.
"""

import io
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudsite.errors import OperationError, ProjectError

# A build step that takes time (RUN, COPY): podman's `[2/4] STEP 7/12: RUN ...` or BuildKit's
# `#7 [build 3/6] RUN ...`; the instant ones (ARG, ENV, LABEL, ...) are not worth a line.
STEP = re.compile(r"^(\[\d+/\d+\] STEP \d+/\d+: |#\d+ \[[^\]]+\] )(RUN|COPY) ")
MARK = re.compile(r"^(error|hint|warning): (.*)$")


@dataclass(frozen=True)
class Built:
    image: str
    size: int  # bytes, uncompressed
    seconds: float
    log: Path


def default_tag(package: Any) -> str:
    return f"local-{package.sha256[:12]}"


def image_build(
    package: Any, *, name: str, tag: str, no_cache: bool, log: Path, progress: Any
) -> Built:
    """Steps 2 to 4 of the module docstring; `progress(text)` gets one line per build step."""
    image = f"{name}:{tag}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cloudsite-source-") as tmp:
        source = Path(tmp)
        unpack(package.data, source)
        argv = [
            sys.executable,
            str(source / ".cloudsite" / "runtime" / "build.py"),
            "--source",
            str(source),
            "--image",
            image,
        ]
        if no_cache:
            argv.append("--no-cache")
        errors, hints, output = _run(argv, log=log, progress=progress)
    if output.returncode != 0:
        if output.returncode == 2 and errors:
            raise ProjectError(
                "build", errors[-1], hint=hints[-1] if hints else f"the build log: {log}"
            )
        raise OperationError(
            "build",
            errors[-1] if errors else f"the image build failed (exit {output.returncode})",
            hint=f"the build log: {log}",
        )
    built = output.stdout.strip().splitlines()[-1]
    return Built(built, _size(log), time.monotonic() - started, log)


def unpack(data: bytes, target: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            path.chmod((info.external_attr >> 16) & 0o777 or 0o644)


def _run(argv: list[str], *, log: Path, progress: Any) -> tuple[list[str], list[str], Any]:
    errors: list[str] = []
    hints: list[str] = []
    stdout: list[str] = []
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(log, "w") as record,
        subprocess.Popen(  # noqa: S603 (the build.py this package ships)
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=dict(os.environ),
        ) as proc,
    ):
        assert proc.stderr is not None and proc.stdout is not None
        for line in proc.stderr:
            record.write(line)
            text = line.rstrip("\n")
            if match := MARK.match(text):
                (
                    errors
                    if match.group(1) == "error"
                    else hints
                    if match.group(1) == "hint"
                    else []
                ).append(match.group(2))
                if match.group(1) == "warning":
                    progress(f"warning: {match.group(2)}")
            elif text.startswith("==> built "):
                continue  # the CLI says it itself, with the whole time
            elif STEP.match(text) or text.startswith("==> "):
                progress(text.removeprefix("==> ")[:160])
            elif text.startswith("    ") and text[4:5].isupper():  # the layer's changes, listed
                progress(text[:160])
        stdout = proc.stdout.readlines()
    result = subprocess.CompletedProcess(argv, proc.returncode, "".join(stdout), "")
    return errors, hints, result


def _size(log: Path) -> int:
    found = re.findall(r"built \S+: ([\d.]+) MB in", log.read_text(errors="replace"))
    return int(float(found[-1]) * 1e6) if found else 0
