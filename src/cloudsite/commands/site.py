"""The verbs about the Django project here: init, build; and the summaries of a project that
plan and the rehearsal print too (what detection found, the data that would not last, the
source zip)."""

from typing import Any

from cloudsite.context import Context


def source_summary(package: Any) -> str:
    """The zip's file count and size, and its largest files."""
    largest = ", ".join(f"{name} ({size / 1000:.0f} KB)" for name, size in package.largest(3))
    return f"{len(package.files)} files, {len(package.data) / 1e6:.1f} MB; largest: {largest}"


def init(ctx: Context, *, eject: bool, force: bool) -> int:
    """Detect the project, write cloudsite.toml, optionally eject the runtime layer."""
    from dataclasses import replace

    from cloudsite.config import CONFIG_FILE
    from cloudsite.errors import ProjectError
    from cloudsite.project import checks
    from cloudsite.project.detect import detect
    from cloudsite.project.init import (
        database_reason,
        database_wanted,
        unsettled_is_written,
        unsettled_text,
    )
    from cloudsite.project.init import init as project_init
    from cloudsite.project.keys import keys

    cfg = ctx.cfg
    config = cfg.project_dir / CONFIG_FILE
    try:
        found = None
        if not config.exists():
            # Checked as the file init writes will have it: a project that needs a database
            # server gets `database = true` there, not a refusal for the default's false.
            found = detect(cfg.source_path, keys(cfg))
            cfg = replace(cfg, database=database_wanted(found))
        project = checks.project_checked(cfg, found)
    except ProjectError as error:
        if config.exists() or not unsettled_is_written(error):
            raise
        # A Django project was found, and something in it needs a key: the file says which.
        config.write_text(unsettled_text(cfg, error))
        ctx.ui.warn(f"{error.what}: {error.why}", hint=error.hint)
        ctx.ui.done(f"wrote {CONFIG_FILE}, with the `{error.what}` key to settle first")
        ctx.ui.info("next: set it there, then `cloudsite plan` says what is still missing")
        return 0
    result = project_init(project, ctx.cfg, eject=eject, force=force)
    _project_summary(ctx, project)
    if result.config_written:
        state = "true" if cfg.database else "false"
        ctx.ui.info(f"database = {state}: {database_reason(project)}")
    _data_warnings(ctx, project, cfg)
    if result.config_written:
        ctx.ui.done(f"wrote {result.config_written.name}")
    else:
        ctx.ui.info("cloudsite.toml exists: left as it is")
    if result.ejected:
        ctx.ui.done(
            f"ejected {len(result.ejected)} files into .cloudsite/: the project's copies win "
            "from now on (delete one to go back to cloudsite's)"
        )
    ctx.ui.info("next: `cloudsite build` makes the image here; `cloudsite up` deploys it to AWS")
    return 0


def _data_warnings(ctx: Context, project: Any, cfg: Any = None) -> None:
    """One warning for each kind of data that would not last (project.checks.data_warnings)."""
    from cloudsite.project.checks import data_warnings

    for warning in data_warnings(project, cfg or ctx.cfg):
        ctx.ui.warn(warning)


def _project_summary(ctx: Context, project: Any) -> None:
    if ctx.ui.json_output:
        ctx.ui.emit_json({"project": dict(project.summary()), "notes": list(project.notes)})
        return
    ctx.ui.data(f"Django project in {project.root}:")
    for what, found in project.summary():
        ctx.ui.data(f"  {what:<14} {found}")
    for note in project.notes:
        ctx.ui.warn(note)


def build(ctx: Context, *, tag: str, no_cache: bool) -> int:
    """The production image, built here by the script CodeBuild runs."""
    from pathlib import Path

    from cloudsite.project.image import default_tag, image_build

    project = ctx.project()
    package = ctx.package()
    tag = tag or default_tag(package)
    log = Path(ctx.cfg.project_dir) / ".cloudsite" / "local" / "build.log"
    own = len([n for n in package.files if not n.startswith(".cloudsite/")])
    ctx.ui.info(
        f"building {ctx.cfg.name}:{tag}: {own} project files and the runtime layer "
        f"({project.settings}, Python {project.python.version})"
    )
    built = image_build(
        package, name=ctx.cfg.name, tag=tag, no_cache=no_cache, log=log, progress=ctx.ui.info
    )
    ctx.ui.done(
        f"built {built.image}: {built.size / 1e6:.1f} MB in {built.seconds:.1f} s (log: {log})"
    )
    if ctx.ui.json_output:
        ctx.ui.emit_json(
            {"image": built.image, "size": built.size, "seconds": round(built.seconds, 1)}
        )
    else:
        ctx.ui.data(built.image)
    return 0
