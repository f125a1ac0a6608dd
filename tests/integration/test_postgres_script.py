"""scripts/postgres.sh, the suite's own PostgreSQL, from a clone under a private (0700) folder:
a folder made by mktemp -d, or /root itself. Run as root, PostgreSQL runs as 'postgres', who
cannot enter such a folder, so the cluster must live elsewhere, where it can."""

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.support.servers import ROOT

pytestmark = pytest.mark.postgres


def test_the_cluster_starts_from_a_clone_in_a_private_folder(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL as another user, who may not enter the clone")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    clone = private / "cloudsite"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
    script = clone / "scripts" / "postgres.sh"
    started = subprocess.run(
        [str(script), "start"], capture_output=True, text=True, timeout=300, check=False
    )
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT current_user").fetchone() == ("cloudsite",)
        # The cluster is the clone's own, outside the private folder, owned by postgres.
        assert not (clone / ".cache" / "postgres").exists()
        assert "/var/tmp/cloudsite-postgres/" in started.stderr
    finally:
        subprocess.run([str(script), "stop"], capture_output=True, timeout=120, check=False)
        for line in started.stderr.splitlines():
            if "creating a PostgreSQL cluster in " in line:
                shutil.rmtree(Path(line.rsplit(" ", 1)[1]).parent, ignore_errors=True)
