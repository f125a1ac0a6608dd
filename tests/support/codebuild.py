"""A CodeBuild stand-in: runs a buildspec (version 0.2) the way CodeBuild does.

- The phases run in order, install, pre_build, build, post_build, in ONE shell (env.shell),
  from CODEBUILD_SRC_DIR, so variables and the directory carry from command to command.
- A command fails when its exit status is not 0. The rest of the phase's `commands` is then
  skipped, its `finally` commands still run, and CODEBUILD_BUILD_SUCCEEDING becomes 0.
- After a failed install or pre_build the build ends; after a failed build, post_build still
  runs (so it can report); `on-failure: CONTINUE` moves on to the next phase instead.
- Artifacts (base-directory, files globs) are collected when the build succeeded.
- CodeBuild's variables are set: CODEBUILD_SRC_DIR, CODEBUILD_BUILD_ID, CODEBUILD_BUILD_ARN,
  CODEBUILD_BUILD_NUMBER, CODEBUILD_RESOLVED_SOURCE_VERSION, CODEBUILD_SOURCE_VERSION,
  CODEBUILD_INITIATOR, CODEBUILD_BUILD_IMAGE, CODEBUILD_START_TIME, AWS_REGION, ...
  The project's variables override the buildspec's `env.variables`, as in CodeBuild.

Features the buildspec does not use (parameter-store, secrets-manager, reports, batch) are
refused rather than ignored. `runtime-versions` is recorded only: the host's tools are used.
"""

import shlex
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PHASES = ("install", "pre_build", "build", "post_build")
_SUPPORTED_ENV = {"shell", "variables", "exported-variables"}
_SUPPORTED_TOP = {"version", "env", "phases", "artifacts"}


@dataclass
class BuildResult:
    status: str  # SUCCEEDED | FAILED
    phases: dict[str, str] = field(default_factory=dict)  # phases that ran: SUCCEEDED | FAILED
    artifacts: Path | None = None
    log: str = ""


def load(buildspec: Path) -> dict:
    spec = yaml.safe_load(buildspec.read_text())
    if str(spec.get("version")) != "0.2":
        raise ValueError(f"{buildspec}: only buildspec version 0.2 is supported")
    unknown = (set(spec) - _SUPPORTED_TOP) | (set(spec.get("env") or {}) - _SUPPORTED_ENV)
    if unknown:
        raise ValueError(f"{buildspec}: the runner does not implement {sorted(unknown)}")
    for phase, body in (spec.get("phases") or {}).items():
        for command in (body.get("commands") or []) + (body.get("finally") or []):
            if not isinstance(command, str):  # e.g. an unquoted "echo error: x" reads as a map
                raise ValueError(
                    f"{buildspec}: YAML_FILE_ERROR: {phase}: {command!r} is not a string"
                )
    return spec


def codebuild_env(
    *, source: Path, region: str, revision: str, build_number: int, project: str = "cstest"
) -> dict[str, str]:
    build_id = f"{project}:{uuid.uuid4()}"
    return {
        "CODEBUILD_SRC_DIR": str(source),
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:{region}:123456789012:build/{build_id}",
        "CODEBUILD_BUILD_NUMBER": str(build_number),
        "CODEBUILD_RESOLVED_SOURCE_VERSION": revision,
        "CODEBUILD_SOURCE_VERSION": revision,
        "CODEBUILD_INITIATOR": f"codepipeline/{project}",
        "CODEBUILD_BUILD_IMAGE": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def script(spec: dict) -> str:
    """The shell program that runs the phases with CodeBuild's rules; it reports each phase's
    outcome as `PHASE STATUS` lines on file descriptor 3."""
    lines = ["set +e", "__cs_end=0"]
    for phase in PHASES:
        body = (spec.get("phases") or {}).get(phase)
        if not body:
            continue
        lines += ["if [ $__cs_end = 0 ]; then", "__cs_failed=0"]
        for command in body.get("commands") or []:
            lines += _command(command, guarded=True)
        for command in body.get("finally") or []:
            lines += _command(command, guarded=False)
        status = "$([ $__cs_failed = 0 ] && echo SUCCEEDED || echo FAILED)"
        lines.append(f'echo "{phase} {status}" >&3')
        stop = body.get("on-failure", "ABORT") == "ABORT" and phase in ("install", "pre_build")
        lines += [
            "if [ $__cs_failed != 0 ]; then export CODEBUILD_BUILD_SUCCEEDING=0;",
            f"  {'__cs_end=1' if stop else ':'}; fi",
            "fi",
        ]
    return "\n".join(lines) + "\n"


def _command(command: str, *, guarded: bool) -> list[str]:
    quoted = shlex.quote(command)
    run = [
        f"eval {quoted}",
        "__cs_rc=$?",
        "if [ $__cs_rc != 0 ]; then __cs_failed=1;",
        f'  echo "[Container] Command did not exit successfully {quoted} exit status $__cs_rc"; fi',
    ]
    return ["if [ $__cs_failed = 0 ]; then", *run, "fi"] if guarded else run


def run_build(
    buildspec: Path, *, source: Path, env: dict[str, str], output: Path, timeout: float = 1800
) -> BuildResult:
    """Run the buildspec in source with env (CodeBuild's and the project's variables)."""
    spec = load(buildspec)
    shell = (spec.get("env") or {}).get("shell", "bash")
    full_env = {k: str(v) for k, v in ((spec.get("env") or {}).get("variables") or {}).items()}
    full_env.update(env)
    program = output.parent / f"{output.name}.sh"  # outside the source: not in any build context
    program.write_text(script(spec))
    status_file = output.parent / f"{output.name}.phases"
    with open(status_file, "w") as status:
        result = subprocess.run(
            [shell, "-c", f"exec 3>&{status.fileno()}; . {shlex.quote(str(program))}"],
            cwd=source, env=full_env, capture_output=True, text=True, timeout=timeout,
            pass_fds=(status.fileno(),), check=False,
        )  # fmt: skip
    program.unlink()
    phases = dict(line.split() for line in status_file.read_text().splitlines())
    ok = all(value == "SUCCEEDED" for value in phases.values()) and "build" in phases
    build = BuildResult(
        status="SUCCEEDED" if ok else "FAILED", phases=phases, log=result.stdout + result.stderr
    )
    if ok:
        build.artifacts = _collect(spec.get("artifacts") or {}, source=source, output=output)
        if build.artifacts is None:
            build.status = "FAILED"
    return build


def _collect(artifacts: dict, *, source: Path, output: Path) -> Path | None:
    base = source / artifacts.get("base-directory", ".")
    if not base.is_dir():
        return None  # CodeBuild: CLIENT_ERROR, no matching base directory path found
    found = [p for pattern in artifacts.get("files", []) for p in base.glob(pattern) if p.is_file()]
    if not found:
        return None
    for path in found:
        target = output / path.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return output
