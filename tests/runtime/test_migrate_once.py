"""manage.py migrate_once, the layer's command that each instance's AfterInstall hook runs:
through the layer, on the reference site's own manage.py, with a SQLite database of its own."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.layer import WANDERPAGE, layer_env


def migrate_once(env: dict[str, str], deployment: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_once", "--deployment-id", deployment],
        cwd=WANDERPAGE, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_a_deployment_migrates_once_and_records_it_then_skips(tmp_path: Path) -> None:
    env = layer_env(WANDERPAGE, tmp_path)
    env["DJANGO_SECRET_KEY"] = "cstest-" + "k" * 50
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    first = migrate_once(env, "d-ONCE00001")
    again = migrate_once(env, "d-ONCE00001")
    other = migrate_once(env, "d-NEXT00002")
    assert [r["outcome"] for r in first + again + other] == ["migrated", "skipped", "migrated"]
    assert "travel.0001_initial" in first[0]["applied"]  # type: ignore[operator]
    assert other[0]["applied"] == []  # nothing was left to apply
    with sqlite3.connect(tmp_path / "site.sqlite3") as db:
        rows = db.execute("SELECT deployment_id FROM cloudsite_deployment_migration").fetchall()
    assert sorted(r[0] for r in rows) == ["d-NEXT00002", "d-ONCE00001"]


def test_without_a_deployment_id_it_migrates_and_records_nothing(tmp_path: Path) -> None:
    env = layer_env(WANDERPAGE, tmp_path)
    env["DJANGO_SECRET_KEY"] = "cstest-" + "k" * 50
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    (record,) = migrate_once(env, "")
    assert record["outcome"] == "migrated"
    with sqlite3.connect(tmp_path / "site.sqlite3") as db:
        count = db.execute("SELECT count(*) FROM cloudsite_deployment_migration").fetchone()[0]
    assert count == 0
