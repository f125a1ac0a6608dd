"""The one build script: CodeBuild (buildspec.yml) and `cloudsite build` both run it, on the
same tree, so the image is built the same way everywhere. The standard library only.

    python3 .cloudsite/runtime/build.py --image NAME:TAG [--revision REV] [--push]
                                        [--bundle DIR] [--no-cache] [--source DIR]

    --source DIR      the project tree as the source zip holds it (default: the folder that
                      holds .cloudsite/), with .cloudsite/project.json (what detection found)
    --image NAME:TAG  what to build and tag; with --push, NAME is the registry repository
    --revision REV    the source revision, recorded as org.opencontainers.image.revision
    --push            push NAME:TAG, then print NAME@sha256:DIGEST (the registry's digest)
    --bundle DIR      write the deploy bundle into DIR (needs --push): appspec.yml, hooks/ and
                      image-uri, one line holding NAME@sha256:DIGEST (docs/interfaces.md, 3)
    --no-cache        rebuild every layer (Debian's security updates land in the OS layer)

    1. stage a build context: deps/ (the manifests), runtime/ (the layer), app/ (the project)
    2. build it with Docker, or podman where no Docker daemon answers
    3. print the image, its size and the build time; push and bundle when asked

Prints on stdout the image reference to deploy: NAME:TAG, or NAME@sha256:DIGEST after --push.
Progress and the engine's log go to stderr. A problem of the project's (a settings import,
collectstatic, a dependency) ends with one `error:` line and a `hint:`, and exit 2; any other
failure exits 1.

Reads:
  BASE_IMAGE_3_X           optional: a local base image for Python 3.X (default: its pin in
                           pythons.toml); BASE_IMAGE still names the default version's
  PIP_INDEX_URL            optional: a package index mirror (default PyPI); hashes still apply
  CLOUDSITE_ENGINE         optional: docker or podman (default: Docker if it answers)
  CLOUDSITE_BUILD_NETWORK  optional: the build's network (host reaches a loopback mirror)
  CLOUDSITE_PIP_CA, PIP_CERT, SSL_CERT_FILE, REQUESTS_CA_BUNDLE   optional: a CA bundle the
                           build stage trusts for the package index (a TLS-inspecting proxy);
                           it stays in the build stage, never in the image
  DOCKER_HOST              the engine, as the docker CLI reads it
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNTIME = Path(__file__).resolve().parent
sys.path.insert(0, str(RUNTIME))  # pythons.py, beside this file in the source zip too
import pythons  # type: ignore[import-not-found]  # noqa: E402

PYTHON_FILES = ("*.py", "deployments/**/*.py")
# ECR's rule for tags; `latest` is refused because the stack's ECR tags are immutable.
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
# A line the build stage printed (BuildKit prefixes its step and time), not one echoed in
# a RUN instruction's text.
MARK = re.compile(r"^(?:#\d+ [\d.]+ )?cloudsite: (error|hint|warning): (.*)$")


class BuildError(Exception):
    def __init__(self, what: str, hint: str = "", *, code: int = 1) -> None:
        super().__init__(what)
        self.what, self.hint, self.code = what, hint, code


def msg(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        return build(args)
    except BuildError as error:
        print(f"error: {error.what}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return error.code


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=RUNTIME.parent.parent)
    parser.add_argument("--image", required=True)
    parser.add_argument("--revision", default="")
    parser.add_argument("--push", action="store_true")
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--no-cache", action="store_true")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> int:
    name, _, tag = args.image.rpartition(":")
    if not name or "/" in tag or not TAG.match(tag):
        raise BuildError(
            f"--image '{args.image}' has no valid tag",
            "tag it with the source revision, e.g. NAME:abc123-b7",
        )
    if tag == "latest":
        raise BuildError("the tag 'latest' is refused", "tag it with the source revision")
    if args.bundle and not args.push:
        raise BuildError("--bundle needs --push", "the bundle names the pushed digest")
    source = args.source.resolve()
    project_file = source / ".cloudsite" / "project.json"
    if not project_file.is_file():
        raise BuildError(
            f"{project_file}: missing",
            "cloudsite writes it into the source zip; run `cloudsite init --eject` for a "
            "repository the pipeline reads directly",
        )
    project = json.loads(project_file.read_text())
    engine = choose_engine()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cloudsite-build-") as tmp:
        context = stage(source, project, Path(tmp))
        options = ["--format=docker"] if engine == "podman" else []  # OCI images drop HEALTHCHECK
        options += ["--no-cache"] if args.no_cache else []
        labels = build_labels(project, revision=args.revision)
        if project.get("dockerfile"):
            own_image(engine, context, project, image=args.image, options=options + labels)
        else:
            command = [engine, "build", "--file", str(context / "Dockerfile"), "--tag", args.image]
            command += options + labels + build_arguments(project)
            kind = project["dependencies"]["kind"]
            python = project["python"]
            base = reachable_base(engine, python)
            command += ["--build-arg", f"BASE_IMAGE={base}"]
            msg(f"build: {args.image} with {engine} (Python {python}, {kind} dependencies)")
            run_build([*command, str(context)], engine=engine)
    seconds = time.monotonic() - started
    size = image_size(engine, args.image)
    msg(f"built {args.image}: {size / 1e6:.1f} MB in {seconds:.1f} s")
    if not args.push:
        print(args.image)
        return 0
    uri = push(engine, args.image)
    if args.bundle:
        write_bundle(args.bundle, uri, project)
    print(uri)
    return 0


def choose_engine() -> str:
    """Docker when a daemon answers (CodeBuild, Docker Desktop), else podman."""
    wanted = os.environ.get("CLOUDSITE_ENGINE", "")
    if wanted:
        if wanted not in ("docker", "podman") or not shutil.which(wanted):
            raise BuildError(
                f"CLOUDSITE_ENGINE: '{wanted}' is not an installed engine", "use docker or podman"
            )
        return wanted
    if shutil.which("docker") and _answers(
        ["docker", "version", "--format", "{{.Server.Version}}"]
    ):
        return "docker"
    if shutil.which("podman") and _answers(["podman", "version"]):
        return "podman"
    raise BuildError(
        "no container engine: neither a Docker daemon nor podman answers",
        "install podman (apt-get install podman) or Docker; on a sandboxed machine see the "
        "containers.conf settings in docs/your-project.md",
    )


def _answers(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def stage(source: Path, project: dict, context: Path) -> Path:
    """The build context: deps/ changes only with the manifests, so its layer is reused."""
    deps = context / "deps"
    (deps / "project").mkdir(parents=True)
    shutil.copy2(RUNTIME / "deps.py", deps / "deps.py")
    shutil.copy2(RUNTIME / "libs.py", deps / "libs.py")
    shutil.copytree(
        RUNTIME / "requirements", deps / "runtime", ignore=shutil.ignore_patterns("*.in")
    )
    for relative in project["dependencies"]["files"]:
        target = deps / "project" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target)
    keys = ("dependencies", "python", "serves_static", "database", "server", "media", "broker")
    (deps / "deps.json").write_text(
        json.dumps({k: project.get(k) for k in keys}, indent=1, sort_keys=True)
    )
    ca = _ca_bundle()
    if ca:
        shutil.copy2(ca, deps / "ca.pem")
    layer = context / "runtime"
    package = layer / "cloudsite" / "runtime"
    package.mkdir(parents=True)
    (layer / "cloudsite" / "__init__.py").write_text(
        '"""cloudsite\'s runtime layer, in the image."""\n'
    )
    for pattern in PYTHON_FILES:
        for path in RUNTIME.glob(pattern):
            target = package / path.relative_to(RUNTIME)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for unused in ("build.py", "deps.py", "libs.py", "pythons.py"):
        (package / unused).unlink(missing_ok=True)
    shutil.copytree(RUNTIME / "bin", layer / "bin")
    for script in (layer / "bin").iterdir():
        script.chmod(0o755)  # whatever the source kept: a zip may not carry modes
    (layer / "var").mkdir()
    shutil.copy2(source / ".cloudsite" / "project.json", layer / "project.json")
    shutil.copytree(
        source, context / "app", ignore=shutil.ignore_patterns(".cloudsite", ".git"), symlinks=True
    )
    shutil.copy2(RUNTIME / "Dockerfile", context / "Dockerfile")
    return context


def _ca_bundle() -> str:
    for name in ("CLOUDSITE_PIP_CA", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(name, "")
        if path and os.path.isfile(path):
            return path
    return ""


def build_arguments(project: dict) -> list[str]:
    args = [
        "--build-arg", f"PYTHON=python{project['python']}",
        "--build-arg", f"APP_DIR={project['app_dir']}",
        "--build-arg", f"SYSTEM_PACKAGES={' '.join(project.get('system_packages', []))}",
        "--build-arg", f"BUILD_PACKAGES={' '.join(project.get('build_packages', []))}",
    ]  # fmt: skip
    if os.environ.get("PIP_INDEX_URL"):
        args += ["--build-arg", f"PIP_INDEX_URL={os.environ['PIP_INDEX_URL']}"]
    return args


def reachable_base(engine: str, version: str) -> str:
    """The base image for Python `version` (pythons.base_image), present in the engine or
    pulled now; else one line that says so and names the variable for a local one."""
    if version not in pythons.table():
        raise BuildError(
            f"project.json asks for Python {version}, which pythons.toml does not list",
            f"cloudsite builds {', '.join(pythons.table())}",
            code=2,
        )
    image, source = pythons.base_image(version)
    variable = pythons.table()[version].variable
    if _answers([engine, "image", "inspect", image]):
        return image
    msg(f"base: pulling {image} (Python {version}, {source})")
    try:
        pulled = subprocess.run(
            [engine, "pull", image], capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        pulled = subprocess.CompletedProcess([], 1, "", "no answer in 900 s")
    if pulled.returncode == 0:
        return image
    lines = [line.strip() for line in pulled.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else f"{engine} pull exited {pulled.returncode}"
    # The engine's own words, without the reference it repeats: "lookup ...: no such host".
    last = re.sub(r"\S*@sha256:[0-9a-f]{64}:?|^Error: |initializing source ", "", last)
    reason = re.sub(r"\s+", " ", last).strip(" :")
    raise BuildError(
        f"the base image for Python {version} can't be reached: {image} ({reason[-160:]})",
        f"set {variable} to a local image with Python {version} "
        "(docs/your-project.md#python-versions)",
        code=2,
    )


def build_labels(project: dict, *, revision: str) -> list[str]:
    args = ["--label", f"org.opencontainers.image.title={project.get('name', 'site')}"]
    if os.environ.get("CLOUDSITE_BUILD_NETWORK"):
        args += ["--network", os.environ["CLOUDSITE_BUILD_NETWORK"]]
    if revision:
        args += ["--label", f"org.opencontainers.image.revision={revision}"]
    return args


# The layer cloudsite adds to an image built from the project's own Dockerfile: the start
# script that takes the secrets from the pipe and then runs the image's own command.
OWN_LAYER = """\
FROM {base}
COPY runtime/bin/ /opt/cloudsite/bin/
ENV CLOUDSITE_OWN_COMMAND={command} CLOUDSITE_APP_DIR={workdir} PORT=8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\
    CMD ["/opt/cloudsite/bin/healthcheck"]
ENTRYPOINT ["/opt/cloudsite/bin/start"]
CMD ["web"]
"""


def own_image(engine: str, context: Path, project: dict, *, image: str, options: list[str]) -> None:
    """The project's own Dockerfile, built with the project as its context, then the start
    script on top (docs/your-project.md, "Your own Dockerfile")."""
    base = image + "-own"
    app, dockerfile = context / "app", context / "app" / project["dockerfile"]
    msg(f"build: {image} from the project's own {project['dockerfile']}, with {engine}")
    build = [engine, "build", "--file", str(dockerfile), "--tag", base, *options, str(app)]
    run_build(build, engine=engine)
    inspect = [engine, "image", "inspect", "--format", "{{json .Config}}", base]
    config = json.loads(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)
    command = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    if not command:
        raise BuildError(
            f"{project['dockerfile']} gives the image no command",
            'end it with CMD, e.g. CMD ["gunicorn", "--bind", "0.0.0.0:8000", "mysite.wsgi"]',
            code=2,
        )
    layer = OWN_LAYER.format(
        base=base,
        command=json.dumps(shlex.join(command)),
        workdir=config.get("WorkingDir") or "/",
    )
    if config.get("User"):
        layer += f"USER {config['User']}\n"
    (context / "own.Dockerfile").write_text(layer)
    final = [engine, "build", "--file", str(context / "own.Dockerfile"), "--tag", image]
    run_build([*final, *options, str(context)], engine=engine)
    subprocess.run([engine, "image", "rm", base], capture_output=True, check=False)


def run_build(command: list[str], *, engine: str) -> None:
    """The engine's build, its log streamed to stderr; the project's own failure becomes the
    one `error:` line the build stage printed."""
    marks: list[tuple[str, str]] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            if match := MARK.search(line.rstrip("\n")):
                marks.append((match.group(1), match.group(2)))
    for level, text in marks:
        if level == "warning":
            print(f"warning: {text}", file=sys.stderr)
    if proc.returncode == 0:
        return
    errors = [text for level, text in marks if level == "error"]
    hints = [text for level, text in marks if level == "hint"]
    if errors:
        raise BuildError(errors[-1], hints[-1] if hints else "", code=2)
    raise BuildError(f"{engine} build failed (exit {proc.returncode})", "the build log is above")


def image_size(engine: str, image: str) -> int:
    out = subprocess.run(
        [engine, "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip() or 0)


def push(engine: str, image: str) -> str:
    msg(f"pushing {image}")
    name = image.rpartition(":")[0]
    digest = ""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [engine, "push", image]
        if engine == "podman":
            argv[2:2] = ["--digestfile", f"{tmp}/digest"]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise BuildError(f"{engine} push of {image} failed", "is the registry login current?")
        if engine == "podman":
            digest = Path(f"{tmp}/digest").read_text().strip()
    if not digest:
        found = re.findall(r"digest: (sha256:[0-9a-f]{64})", result.stdout + result.stderr)
        digest = found[-1] if found else ""
    if not digest:  # some engines print no digest line; the image records it after the push
        out = subprocess.run(
            [
                engine,
                "image",
                "inspect",
                "--format",
                "{{range .RepoDigests}}{{println .}}{{end}}",
                image,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        digest = next(
            (line.split("@")[1] for line in out.stdout.split() if line.startswith(name + "@")), ""
        )
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise BuildError(f"no digest for the pushed {image}")
    return f"{name}@{digest}"


def background(project: dict) -> str:
    """background.json: the release's [processes], each command split into its words, and its
    [schedule] (the hooks start the processes; manage.sh runs a schedule's command)."""
    processes = [
        {"name": p["name"], "count": p["count"], "words": shlex.split(p["command"])}
        for p in project.get("processes", [])
    ]
    return json.dumps({"processes": processes, "schedule": project.get("schedule", [])}) + "\n"


def write_bundle(bundle: Path, uri: str, project: dict) -> None:
    """appspec.yml, hooks/, image-uri and background.json: what CodeDeploy runs on each
    instance."""
    msg(f"deploy bundle in {bundle}")
    (bundle / "hooks").mkdir(parents=True, exist_ok=True)
    shutil.copy2(RUNTIME / "appspec.yml", bundle / "appspec.yml")
    for hook in (RUNTIME / "hooks").iterdir():
        shutil.copy2(hook, bundle / "hooks" / hook.name)
        # Modes set here, whatever the source kept: the hooks run, the sourced helper does not.
        (bundle / "hooks" / hook.name).chmod(0o644 if hook.name == "common.sh" else 0o755)
    (bundle / "image-uri").write_text(uri + "\n")
    (bundle / "background.json").write_text(background(project))


if __name__ == "__main__":
    sys.exit(main())
