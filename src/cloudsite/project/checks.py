"""The project checks every verb that ships makes before its first AWS call."""

from pathlib import Path

from cloudsite.config import Config
from cloudsite.errors import ProjectError
from cloudsite.project.background import Choice, choose
from cloudsite.project.data import media_choice
from cloudsite.project.detect import Project, detect
from cloudsite.project.keys import keys
from cloudsite.project.shipment import FOLDER


def project_checked(cfg: Config, found: Project | None = None) -> Project:
    """Detect the project in source_dir (unless `found` is it already), and check it against
    the configuration."""
    project = found or detect(cfg.source_path, keys(cfg))
    if cfg.dockerfile and not (project.root / cfg.dockerfile).is_file():
        raise ProjectError(
            "dockerfile",
            f"{cfg.dockerfile}: no such file in {project.root}",
            hint="the path is relative to source_dir; leave the key out to use cloudsite's",
        )
    need = project.database
    if need.needed and need.engine != "postgresql":
        raise ProjectError(
            "database",
            f"the project needs a {need.engine} server ({need.reason}), and cloudsite makes "
            "PostgreSQL (RDS) only",
            hint="point the settings at PostgreSQL, or deploy this project another way",
        )
    if need.needed and not cfg.database:
        raise ProjectError(
            "database",
            f"the project needs a PostgreSQL server ({need.reason}), and database = false",
            hint="set database = true in cloudsite.toml: the stack then makes an RDS "
            "PostgreSQL and hands the site DATABASE_URL (see `cloudsite plan` for the cost)",
        )
    media(project, cfg)
    return project


def media(project: Project, cfg: Config) -> tuple[str, str]:
    """Where the site's uploads go (data.media_choice), and why; `media = "s3"` for a project
    whose settings pin a storage that is not S3 is refused, since the layer would not replace
    the project's own choice and the bucket would go unused."""
    if cfg.media == "s3" and project.data.storage_kind == "other":
        raise ProjectError(
            "media",
            f'media = "s3", and the settings store files with {project.data.storage}, not S3',
            hint='leave media = "auto" (the project keeps its own storage), or point the '
            "settings' default storage at S3",
        )
    return media_choice(project.data, cfg.media)


def background(project: Project, cfg: Config) -> Choice:
    """The broker and the Valkey server the site gets (project/background.py)."""
    return choose(project.tasks, cfg)


def data_warnings(project: Project, cfg: Config) -> list[str]:
    """What init, plan, up and local up say about data that would not last."""
    warnings = []
    if project.data.writes and not cfg.database:
        shown = ", ".join(a.removeprefix("django.contrib.") for a in project.data.writers[:4])
        warnings.append(
            f"database = false: what {shown} write (users, the admin's changes) differs per "
            "instance, each keeping its own SQLite copy, and vanishes at the next deploy; "
            "set database = true to keep it (logins still work: sessions go in signed cookies)"
        )
    choice, _ = media(project, cfg)
    if choice == "none" and project.data.files:
        warnings.append(
            f"media = none, and {project.data.files}: uploads have nowhere to go (the "
            'containers are read-only); media = "auto" keeps them in an S3 bucket'
        )
    return warnings


def repository_has_runtime(cfg: Config) -> None:
    """GitHub mode: the pipeline reads the repository itself, so the runtime layer and
    project.json must be committed there (`cloudsite init --eject`)."""
    root = cfg.source_path
    for needed in ("runtime/buildspec.yml", "runtime/build.py", "project.json"):
        if not (root / FOLDER / needed).is_file():
            raise ProjectError(
                "source_mode",
                f"github mode builds what the repository holds, and {Path(FOLDER) / needed} "
                "is not in this checkout",
                hint="run `cloudsite init --eject` here, then commit and push .cloudsite/",
            )
