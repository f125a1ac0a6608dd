"""Installs a project's dependencies into /opt/venv, in the image's build stage.

    python3 /tmp/deps/deps.py        (the Dockerfile; the standard library only)

Reads /tmp/deps/deps.json (written by build.py from project.json) and the project's manifest
files under /tmp/deps/project/:

    requirements  pip install -r FILE (hashes are checked when the file has them)
    uv            uv export --frozen (no dev groups, no project) -> pip, hashes checked
    poetry        poetry export --only main                        -> pip, hashes checked
    pdm           pdm export --prod                                -> pip, hashes checked
    pipenv        Pipfile.lock's "default" section                 -> pip, hashes checked
    pep621        [project].dependencies, as written (not locked)
    startproject  Django at the version startproject's header names

uv, poetry and pdm come from cloudsite's own hashed locks (runtime/requirements/tools-*.txt)
into /opt/tools, which the image never keeps. Then what the runtime layer needs and the
project does not already have: gunicorn, whitenoise, dj-database-url, psycopg (with a
database), django-storages and boto3 (media in S3), uvicorn-worker (ASGI), each from its
hashed lock and without touching a version the project chose.

A failure prints `cloudsite: error: ...` and `cloudsite: hint: ...`, the lines build.py
reports, and exits 2.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DEPS = Path(__file__).resolve().parent
VENV = Path("/opt/venv")
TOOLS = Path("/opt/tools")
REQUIREMENTS = Path("/tmp/cloudsite-requirements.txt")  # noqa: S108 (build stage only)
EXPORT = {
    "uv": [
        "uv",
        "export",
        "--frozen",
        "--no-default-groups",
        "--no-emit-workspace",
        "--no-header",
        "--format",
        "requirements-txt",
        "--output-file",
        str(REQUIREMENTS),
    ],
    "poetry": [
        "poetry",
        "export",
        "--only",
        "main",
        "--format",
        "requirements.txt",
        "--output",
        str(REQUIREMENTS),
    ],
    "pdm": ["pdm", "export", "--prod", "--format", "requirements", "--output", str(REQUIREMENTS)],
}


def fail(what: str, hint: str = "") -> None:
    print(f"cloudsite: error: {what}", file=sys.stderr, flush=True)
    if hint:
        print(f"cloudsite: hint: {hint}", file=sys.stderr, flush=True)
    sys.exit(2)


def run(
    argv: list[str],
    *,
    what: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    retry: Callable[[str], bool] | None = None,
) -> str:
    """Run a command, its output shown; on failure, one line naming what failed (unless
    `retry(output)` mends the cause and says to run it again, once)."""
    print(f"==> {' '.join(argv[:6])}{' ...' if len(argv) > 6 else ''}", file=sys.stderr, flush=True)
    result = subprocess.run(
        argv, cwd=cwd, env=env or ENV, capture_output=True, text=True, check=False
    )
    sys.stderr.write(result.stdout[-20000:] + result.stderr[-20000:])
    if result.returncode != 0 and retry and retry(result.stdout + result.stderr):
        return run(argv, what=what, cwd=cwd, env=env)
    if result.returncode != 0:
        fail(f"{what} (exit {result.returncode})", _hint(result.stdout + result.stderr))
    return result.stdout


def _hint(output: str) -> str:
    built = re.search(r"Failed (?:to build|building wheel for) ([A-Za-z0-9_.-]+)", output)
    if built:
        return (
            f"{built.group(1)} has no wheel for this Python and failed to compile: give the "
            "compiler and headers it needs with build_packages, and the libraries it loads with "
            "system_packages, in cloudsite.toml"
        )
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if missing:
        return f"no release of {missing.group(1)} installs on this image's Python; check the pin"
    return "the output above says why"


def pip(*args: str) -> None:
    run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--no-input",
            "--disable-pip-version-check",
            "--no-compile",
            *args,
        ],
        what="pip install " + " ".join(args[-2:]),
    )


def installed() -> set[str]:
    """The canonical names of the distributions in the virtualenv."""
    code = (
        "import importlib.metadata as m\n"
        "print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    )
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return {canonical(name) for name in out.stdout.split()}


def required_by_others(name: str) -> bool:
    """Some installed distribution names `name` among its requirements."""
    code = (
        "import importlib.metadata as m, re, sys\n"
        "wanted = sys.argv[1]\n"
        "found = [d.metadata['Name'] for d in m.distributions() for r in (d.requires or [])\n"
        "         if re.split(r'[ ;<>=!~\\[(]', r, 1)[0].lower().replace('_', '-') == wanted]\n"
        "print(len(found))"
    )
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", code, name], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip() or 0) > 0


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(path: Path) -> dict[str, str]:
    """A hashed lock (pip-compile's form) as {name: its requirement text with hashes}."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    entries = {}
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#") and (m := re.match(r"([A-Za-z0-9_.-]+)", line)):
            entries[canonical(m.group(1))] = line
    return entries


def install_lock(path: Path, *, skip: set[str]) -> list[str]:
    """Install a hashed lock without its dependencies' resolution, leaving alone every
    package already installed; returns what it installed."""
    wanted = {name: line for name, line in lock_entries(path).items() if name not in skip}
    if not wanted:
        return []
    partial = REQUIREMENTS.with_suffix(f".{path.stem}.txt")
    partial.write_text("\n".join(wanted.values()) + "\n")
    pip("--require-hashes", "--no-deps", "-r", str(partial))
    return sorted(installed() - skip)  # not what a marker left out (tzdata on Windows)


def project_requirements(spec: dict) -> None:
    deps = spec["dependencies"]
    kind, project = deps["kind"], DEPS / "project"
    if kind == "requirements":
        pip("-r", str(project / deps["manifest"]))
    elif kind in ("pep621", "startproject"):
        pip(*deps["packages"])
    elif kind == "pipenv":
        pipfile_requirements(project / deps["manifest"])
        pip("--require-hashes", "--no-deps", "-r", str(REQUIREMENTS))
    elif kind in EXPORT:
        run([sys.executable, "-m", "venv", str(TOOLS)], what="the tools' virtualenv")
        run(
            [
                str(TOOLS / "bin" / "pip"),
                "install",
                "--no-cache-dir",
                "--require-hashes",
                "-r",
                str(DEPS / "runtime" / f"tools-{kind}.txt"),
            ],
            what=f"installing {kind}",
        )
        argv = [str(TOOLS / "bin" / EXPORT[kind][0]), *EXPORT[kind][1:]]
        folder = (project / deps["manifest"]).parent
        env = dict(ENV, POETRY_VIRTUALENVS_CREATE="false", PDM_CHECK_UPDATE="false")
        what = f"{kind} export of {deps['manifest']}"
        run(argv, what=what, cwd=folder, env=env, retry=the_uv_asked_for if kind == "uv" else None)
        pip("--require-hashes", "--no-deps", "-r", str(REQUIREMENTS))
    else:
        fail(f"deps.json: '{kind}' is not a kind of manifest this build knows")


def the_uv_asked_for(output: str) -> bool:
    """A project's `[tool.uv] required-version` that cloudsite's own uv does not meet: the uv
    it asks for, from the index (no hash can be known for a range), into the tools' venv;
    True when there is one to run the export again with."""
    asked = re.search(r"Required uv version `([^`]+)` does not match", output)
    if not asked:
        return False
    spec = asked.group(1)
    print(
        f"cloudsite: warning: the project asks for uv {spec} ([tool.uv] required-version): "
        "installing it from the index, unhashed, for the export alone",
        file=sys.stderr,
        flush=True,
    )
    run(
        [str(TOOLS / "bin" / "pip"), "install", "--no-cache-dir", f"uv{spec}"],
        what=f"installing uv{spec}",
    )
    return True


def pipfile_requirements(lock: Path) -> None:
    """Pipfile.lock's "default" packages as a hashed requirements file (what `pipenv
    requirements --hash` prints)."""
    lines = []
    for name, entry in sorted(json.loads(lock.read_text())["default"].items()):
        if "version" not in entry:
            fail(
                f"Pipfile.lock: {name} is not from an index (a path or VCS entry)",
                "publish it as a package",
            )
        extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
        marker = f"; {entry['markers']}" if entry.get("markers") else ""
        hashes = " ".join(f"--hash={h}" for h in entry.get("hashes", []))
        lines.append(f"{name}{extras}{entry['version']}{marker} {hashes}")
    REQUIREMENTS.write_text("\n".join(lines) + "\n")


def runtime_components(spec: dict) -> list[str]:
    wanted = ["gunicorn", "dj-database-url"]
    if spec.get("serves_static") == "cloudsite":
        wanted.append("whitenoise")
    database = spec.get("database", {})
    if database.get("needed") or database.get("server"):
        wanted.append("psycopg")
    if spec.get("media") == "s3":
        wanted.append("django-storages")  # with boto3: the S3 storage (docs/data.md)
    if spec.get("server") == "asgi":
        wanted.append("uvicorn-worker")
    if spec.get("broker") in ("sqs", "redis"):
        # kombu[sqs] or kombu[redis]: what a project's plain `celery` leaves out (pycurl and
        # boto3; packaging and redis), only the ones it lacks (docs/background.md)
        wanted.append(f"kombu-{spec['broker']}")
    return wanted


def main() -> None:
    spec = json.loads((DEPS / "deps.json").read_text())
    run([sys.executable, "-m", "venv", str(VENV)], what="the virtualenv")
    project_requirements(spec)
    have = installed()
    added = []
    for component in runtime_components(spec):
        if component == "psycopg" and have & {"psycopg", "psycopg2", "psycopg2-binary"}:
            continue
        if component not in have:  # kombu-*: never a package, each missing entry is added
            added += install_lock(DEPS / "runtime" / f"{component}.txt", skip=have)
            have = installed()
    check = subprocess.run(
        [str(VENV / "bin" / "pip"), "check"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        print(f"cloudsite: warning: pip check: {check.stdout.strip()}", file=sys.stderr)
    # What a running site never uses: pip itself, the setuptools that venv seeds before
    # Python 3.12 when nothing installed requires it, and the translations' source catalogues.
    unused = ["pip"]
    if "setuptools" in have and not required_by_others("setuptools"):
        unused.append("setuptools")
    run([str(VENV / "bin" / "pip"), "uninstall", "--yes", *unused], what="removing pip")
    for po in VENV.rglob("*.po"):
        po.unlink()
    run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(VENV),
        ],
        what="compileall",
    )
    print(
        f"==> dependencies: {len(have)} packages; added for the runtime layer: "
        f"{', '.join(added) or 'none'}",
        file=sys.stderr,
    )


def _environment() -> dict[str, str]:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
    ca = DEPS / "ca.pem"  # the host's CA bundle, for a TLS-inspecting proxy (build.py)
    if ca.is_file():
        env.update(PIP_CERT=str(ca), SSL_CERT_FILE=str(ca), REQUESTS_CA_BUNDLE=str(ca))
    return env


ENV = _environment()

if __name__ == "__main__":
    main()
