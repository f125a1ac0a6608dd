"""`cloudsite init`: say what detection found, write cloudsite.toml, and with --eject write the
runtime layer into the project for those who want to change it.

    1. detect the project (the keys of an existing cloudsite.toml settle what they name)
    2. write cloudsite.toml, unless there is one: the site name, `database = true` when the
       project needs a server or its apps write at run time, `media`, and the detected values
       as comments, each with its key
    3. --eject: .cloudsite/runtime/ (every file of the layer) and .cloudsite/project.json,
       never over a file the project already has (--force replaces them)
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cloudsite.config import CONFIG_FILE, Config
from cloudsite.errors import ProjectError, UsageError
from cloudsite.project.data import media_choice
from cloudsite.project.detect import Project
from cloudsite.project.shipment import FOLDER, project_json, runtime_in_use
from cloudsite.runtime import pythons

GITIGNORE = "# cloudsite's local state (cloudsite local, build logs) is never committed.\nlocal/\n"


@dataclass
class InitResult:
    project: Project
    config_written: Path | None
    ejected: list[str] = field(default_factory=list)


def config_text(project: Project, cfg: Config) -> str:
    """A cloudsite.toml for the project: the decisions made, the detections as comments."""
    lines = [
        "# cloudsite's configuration for this project; every key: cloudsite.example.toml.",
        f'name = "{cfg.name}"',
        "",
        "# What detection found (`cloudsite init` prints it again). Uncomment a key to override.",
        f'# manage_py = "{project.manage_py}"',
        f'# settings_module = "{project.settings}"',
        f'# application = "{project.application}"',
    ]
    if project.dependencies.manifest:
        lines.append(f'# requirements = "{project.dependencies.manifest}"')
    python = project.python
    base = pythons.table()[python.version].tag
    asked = f"{python.source}: {python.asked}" if python.asked else python.source
    lines.append(f"# Python {python.version} ({asked}), built on {base}.")
    lines += [f"# warning: {warning}" for warning in python.warnings]
    lines.append(f'# python_version = "{python.version}"')
    lines += ["", f"# {database_reason(project)}."]
    lines.append(f"database = {'true' if database_wanted(project) else 'false'}")
    choice, why = media_choice(project.data, "auto")
    lines += ["", f"# Uploads: {MEDIA_LINES[choice]} ({why})."]
    lines.append('media = "auto"')
    if project.required_env:
        lines += [
            "",
            "# The settings read these with no default. Give non-secret ones here; put secrets",
            "# in SSM (/cloudsite/<name>/NAME, SecureString), which the site reads at run time.",
            "# environment = [" + ", ".join(f'"{n}=..."' for n in project.required_env) + "]",
        ]
    lines += _tasks_lines(project)
    return "\n".join(lines) + "\n"


def _tasks_lines(project: Project) -> list[str]:
    """The [processes] table for the task queue init found (a table: it goes last)."""
    tasks = project.tasks
    if not tasks.proposed:
        return []
    lines = [
        "",
        f"# Background work: {tasks.describe()}. Each process runs beside the web on every",
        "# instance (count = how many containers); the broker is chosen by `broker` (auto:",
        "# the Valkey server when the settings read REDIS_URL, SQS otherwise; docs/background.md).",
        "# Periodic tasks go in [schedule], which runs each once, not in Celery beat.",
        "[processes]",
    ]
    lines += [f'{name} = "{command}"' for name, command in tasks.proposed]
    return lines


def unsettled_is_written(error: ProjectError) -> bool:
    """init writes cloudsite.toml for a Django project it found whatever needs settling in it,
    except where there is no project, or the Python its files ask for cannot be built (two
    pins that disagree, a version outside the list: the files must change, not a key)."""
    return error.what not in ("python_version", "source_dir") and not error.why.startswith(
        "not a Django project"
    )


def unsettled_text(cfg: Config, error: ProjectError) -> str:
    """A cloudsite.toml for a project with something to settle: the name, the finding as a
    warning, and the key that settles it; `init` again, once it is set, says the rest."""
    return "\n".join(
        [
            "# cloudsite's configuration for this project; every key: cloudsite.example.toml.",
            f'name = "{cfg.name}"',
            "",
            f"# warning: {error.why}",
            f"# {error.what}: {error.hint}" if error.hint else f"# set {error.what}",
            "# Then `cloudsite plan` checks the rest; for the file init writes with every",
            "# detection, delete this one and run `cloudsite init` again.",
            "",
        ]
    )


MEDIA_LINES: Final = {
    "s3": "a private S3 bucket of the site's keeps them",
    "none": "none expected, so no bucket",
    "project": "the project's own storage keeps them; cloudsite adds no bucket",
}


def database_wanted(project: Project) -> bool:
    """A database server, for a project that needs one or whose apps write at run time."""
    return project.database.needed or project.data.writes


def database_reason(project: Project) -> str:
    """The one line that says why (the comment init writes above `database`)."""
    if project.database.needed:
        return project.database.reason
    if project.data.writes:
        shown = ", ".join(a.removeprefix("django.contrib.") for a in project.data.writers[:5])
        return (
            f"{shown} write at run time: a PostgreSQL server keeps what they write, the same "
            "for every instance and through every deploy"
        )
    return f"{project.database.reason}, and no installed app writes at run time"


def init(project: Project, cfg: Config, *, eject: bool, force: bool) -> InitResult:
    """Steps 2 and 3 of the module docstring."""
    written = None
    config = cfg.project_dir / CONFIG_FILE
    if not config.exists():
        config.write_text(config_text(project, cfg))
        written = config
    result = InitResult(project=project, config_written=written)
    if eject:
        result.ejected = _eject(project, cfg, force=force)
    return result


def _eject(project: Project, cfg: Config, *, force: bool) -> list[str]:
    folder = project.root / FOLDER
    files = {
        f"runtime/{f.name}": (f.path.read_bytes(), f.executable)
        for f in runtime_in_use(None)  # cloudsite's own: never the project's copy back
    }
    document = json.dumps(project_json(project, cfg), indent=2, sort_keys=True) + "\n"
    files["project.json"] = (document.encode(), False)
    existing = [name for name in files if (folder / name).exists()]
    if existing and not force:
        ours = [n for n in existing if (folder / n).read_bytes() != files[n][0]]
        if ours:
            raise UsageError(
                "init --eject",
                f"{len(ours)} file(s) in {FOLDER}/ differ from what ejecting writes, "
                f"e.g. {FOLDER}/{ours[0]}",
                hint="they are the project's own changes; --force replaces them",
            )
    for name, (data, executable) in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if executable else 0o644)
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE)
    return sorted(files)
