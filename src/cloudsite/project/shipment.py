"""What travels with the project in the source zip, under `.cloudsite/`:

    .cloudsite/project.json   what detection found and what the configuration asks of the
                              image (the build reads it; docs/your-project.md)
    .cloudsite/runtime/...    the runtime layer: cloudsite's built-in files, except where the
                              project ejected one (`cloudsite init --eject` wrote it into
                              the project's own .cloudsite/runtime/, and the project's copy wins)

`runtime_in_use` says which files are the project's, for `plan` and `init`.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cloudsite import __version__
from cloudsite.config import Config
from cloudsite.project.detect import Project
from cloudsite.project.keys import environment

BUILT_IN: Final = Path(__file__).resolve().parent.parent / "runtime"
FOLDER: Final = ".cloudsite"
# What the runtime folder holds that is not shipped: caches and the locks' sources.
NOT_SHIPPED: Final = ("__pycache__", ".pyc", ".in")
EXECUTABLE: Final = ("bin/", "hooks/", "build.py")

# Compiled dependencies with no wheel, and what they need beyond the build stage's own C
# toolchain and Python headers: at build time, and at run time (the image build also finds
# and installs what any extension links: runtime/libs.py).
NATIVE: Final = {
    "psycopg[c]": (("libpq-dev",), ("libpq5",)),
    "psycopg-c": (("libpq-dev",), ("libpq5",)),
    "psycopg2": (("libpq-dev",), ("libpq5",)),
    "mysqlclient": (("default-libmysqlclient-dev",), ("libmariadb3",)),
}


@dataclass(frozen=True)
class RuntimeFile:
    name: str  # relative to the runtime folder, posix
    path: Path  # where its content comes from
    ejected: bool  # the project's own copy

    @property
    def executable(self) -> bool:
        return self.name.startswith(EXECUTABLE)


def runtime_in_use(root: Path | None) -> list[RuntimeFile]:
    """Every runtime file, from the project's .cloudsite/runtime/ where it has one (root None:
    cloudsite's built-in files only)."""
    bases = [(BUILT_IN, False)] + ([(root / FOLDER / "runtime", True)] if root else [])
    files: dict[str, RuntimeFile] = {}
    for base, ejected in bases:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            name = path.relative_to(base).as_posix()
            if path.is_file() and not any(part in name for part in NOT_SHIPPED):
                files[name] = RuntimeFile(name, path, ejected)
    return [files[name] for name in sorted(files)]


def project_json(project: Project, cfg: Config) -> dict[str, Any]:
    """project.json: the detection, and the configuration keys the image build reads."""
    from cloudsite.project.checks import background, media

    tasks = background(project, cfg)
    build_packages, system_packages = native_packages(project)
    detected = project.as_json()
    return {
        "cloudsite": __version__,
        "name": cfg.name,
        **detected,
        # "server": the stack (or `cloudsite local`) gives the site a PostgreSQL server
        "database": {**detected["database"], "server": cfg.database or project.database.needed},
        "media": media(project, cfg)[0],
        "environment": environment(cfg),
        "content_security_policy": cfg.content_security_policy,
        "build_command": cfg.build_command,
        "dockerfile": cfg.dockerfile,
        # Background work (docs/background.md): the bundle's processes and schedule files, and
        # the broker the settings layer configures Celery for.
        "broker": tasks.broker,
        "redis": tasks.redis,
        "processes": [
            {"name": p.name, "command": p.command, "count": p.count} for p in cfg.processes
        ],
        "schedule": [
            {
                "name": s.name,
                "command": s.command,
                "expression": s.expression,
                "timeout_minutes": s.timeout_minutes,
            }
            for s in cfg.schedule
        ],
        "build_packages": sorted({*build_packages, *cfg.build_packages}),
        "system_packages": sorted({*system_packages, *cfg.system_packages}),
    }


def native_packages(project: Project) -> tuple[set[str], set[str]]:
    """The Debian packages the project's compiled dependencies need: (build, run time)."""
    build: set[str] = set()
    run: set[str] = set()
    for name, (at_build, at_run) in NATIVE.items():
        if name in project.dependencies.names:
            build |= set(at_build)
            run |= set(at_run)
    return build, run


def extra_entries(project: Project, cfg: Config) -> dict[str, tuple[bytes, bool]]:
    """The zip entries under .cloudsite/: {path: (content, executable)}."""
    entries = {
        f"{FOLDER}/runtime/{f.name}": (f.path.read_bytes(), f.executable)
        for f in runtime_in_use(project.root)
    }
    document = json.dumps(project_json(project, cfg), indent=2, sort_keys=True) + "\n"
    entries[f"{FOLDER}/project.json"] = (document.encode(), False)
    return entries
