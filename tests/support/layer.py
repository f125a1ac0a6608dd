"""A Django project run through cloudsite's runtime layer on this machine, as the image runs it:
the same project.json the CLI ships, DJANGO_SETTINGS_MODULE=cloudsite.runtime.settings, and
the image's paths (static files, the SQLite copies) moved into a folder of the test's own."""

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloudsite import config, validate
from cloudsite.project.detect import Project, detect
from cloudsite.project.keys import keys
from cloudsite.project.shipment import project_json
from tests.support.servers import ROOT

WANDERPAGE = ROOT / "examples" / "wanderpage"


def project_config(project_dir: Path, **values: Any) -> config.Config:
    """The project's cloudsite.toml (when it has one) with `values` on top, validated."""
    toml = project_dir / config.CONFIG_FILE
    if toml.is_file():
        cfg = config.load(path=toml, env={}, overrides={})
        return validate.config(replace(cfg, **values)) if values else cfg
    return validate.config(replace(config.Config(), project_dir=project_dir, **values))


def detected(project_dir: Path, **values: Any) -> tuple[Project, dict[str, Any]]:
    """The detection and the project.json `cloudsite up` would ship."""
    cfg = project_config(project_dir, **values)
    project = detect(cfg.source_path, keys(cfg))
    return project, project_json(project, cfg)


def layer_env(
    project_dir: Path, workdir: Path, *, phase: str = "run", **values: Any
) -> dict[str, str]:
    """The environment for running `project_dir` through the layer (manage.py, gunicorn, a
    `python -c`): a project.json in workdir, and the image's paths under workdir."""
    project, document = detected(project_dir, **values)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "project.json").write_text(json.dumps(document))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOUDSITE_"))}
    app = project.root / project.app_dir
    env.update(
        DJANGO_SETTINGS_MODULE="cloudsite.runtime.settings",
        CLOUDSITE_PROJECT_FILE=str(workdir / "project.json"),
        CLOUDSITE_STATIC_ROOT=str(workdir / "static"),
        CLOUDSITE_SEED=str(workdir / "seed.sqlite3"),
        CLOUDSITE_SQLITE=str(workdir / "db.sqlite3"),
        PYTHONPATH=os.pathsep.join([str(app), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    if phase == "build":
        env["CLOUDSITE_PHASE"] = "build"
    return env
