"""deploy/docker-deploy.sh against a local git repository: a first deploy, a redeploy of a new
commit, and a broken commit that must leave the running version serving.

The tests run in file order and share one repository and one deployed container.
"""

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import SITE_HOST, Releases
from tests.integration.test_image import http_get
from tests.support.engine import Engine
from tests.support.servers import ROOT, free_port

pytestmark = pytest.mark.engine

SCRIPT = ROOT / "deploy" / "docker-deploy.sh"


@dataclass
class Standalone:
    repo: Path
    name: str
    port: int
    env: dict[str, str]

    def commit(self, source: Path, message: str) -> str:
        """Replace the repository's tree with source's and commit it; returns the commit."""
        for path in self.repo.iterdir():
            if path.name != ".git":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.copytree(source, self.repo, dirs_exist_ok=True)
        git = ["git", "-C", str(self.repo), "-c", "user.name=cstest", "-c", "user.email=t@test"]
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", message], check=True)
        return subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [
            str(SCRIPT),
            "--repo",
            str(self.repo),
            "--name",
            self.name,
            "--port",
            str(self.port),
            *args,
        ]
        return subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=900, check=False
        )

    def release(self) -> str:
        status, body = http_get(f"http://127.0.0.1:{self.port}/static/cstest-release.txt")
        return body.decode().strip() if status == 200 else f"HTTP {status}"


@pytest.fixture(scope="module")
def standalone(
    engine: Engine, build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Standalone]:
    repo = tmp_path_factory.mktemp("standalone") / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    env = engine.script_env(
        **build_env,
        DJANGO_SECRET_KEY="cstest-standalone-not-secret",
        DJANGO_ALLOWED_HOSTS=SITE_HOST,
        CLOUDSITE_HEALTH_TIMEOUT="30",
    )
    site = Standalone(repo=repo, name=engine.name("standalone"), port=free_port(), env=env)
    try:
        yield site
    finally:
        for suffix in ("", "-candidate", "-previous", "-secrets-writer"):
            engine.docker("rm", "--force", site.name + suffix, check=False)
        engine.docker("volume", "rm", "--force", site.name + "-secrets", check=False)


def test_first_deploy_builds_starts_and_prints_the_url(
    standalone: Standalone, releases: Releases, engine: Engine
) -> None:
    standalone.commit(releases.source("v1"), "v1")
    result = standalone.deploy()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"http://127.0.0.1:{standalone.port}/"
    assert standalone.release() == "v1"
    assert http_get(f"http://127.0.0.1:{standalone.port}/", host=SITE_HOST)[0] == 200
    restart = engine.docker(
        "inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", standalone.name
    )
    assert restart.stdout.strip() == "unless-stopped"


def test_the_secret_key_is_not_in_the_container_s_configuration_and_survives_a_restart(
    standalone: Standalone, engine: Engine
) -> None:
    """docs/security.md, finding 6: `docker inspect` shows the environment, not the volume's
    file; a restart by Docker (a crash, a reboot) reads the file again."""
    key = standalone.env["DJANGO_SECRET_KEY"]
    config = engine.docker("inspect", standalone.name).stdout
    assert key not in config
    assert "DJANGO_ALLOWED_HOSTS=" + SITE_HOST in config  # settings still travel as -e
    assert f"{standalone.name}-secrets" in config  # the volume, mounted
    engine.docker("restart", "--time", "5", standalone.name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if http_get(f"http://127.0.0.1:{standalone.port}/", host=SITE_HOST)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.5)
    assert http_get(f"http://127.0.0.1:{standalone.port}/", host=SITE_HOST)[0] == 200


def test_redeploy_replaces_the_container_with_the_new_commit(
    standalone: Standalone, releases: Releases, engine: Engine
) -> None:
    before = engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout.strip()
    commit = standalone.commit(releases.source("v2"), "v2")
    result = standalone.deploy("--ref", "main")
    assert result.returncode == 0, result.stderr[-3000:]
    assert standalone.release() == "v2"
    after = engine.docker(
        "inspect", "--format", "{{.Id}} {{.Config.Image}}", standalone.name
    ).stdout.split()
    assert after[0] != before and after[1].endswith(commit[:12])
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
    assert [n for n in names if n.startswith(standalone.name)] == [standalone.name]


def test_broken_commit_fails_and_leaves_the_old_version_serving(
    standalone: Standalone, releases: Releases, engine: Engine
) -> None:
    serving = engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout.strip()
    standalone.commit(releases.source("v3", broken=True), "v3, which cannot start")
    result = standalone.deploy()
    assert result.returncode != 0
    assert "exited or did not answer /healthz and /readyz" in result.stderr
    assert "the running site was not touched" in result.stderr
    assert (
        engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout.strip() == serving
    )
    assert standalone.release() == "v2"


def test_a_project_that_stores_files_needs_a_bucket_and_leaves_the_old_version_serving(
    standalone: Standalone, releases: Releases, engine: Engine
) -> None:
    serving = engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout.strip()
    tree = releases.source("v4")
    settings = tree / "config" / "settings" / "base.py"
    settings.write_text(settings.read_text() + '\nMEDIA_ROOT = BASE_DIR / "media"\n')
    standalone.commit(tree, "v4, with uploads")
    result = standalone.deploy()
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert errors[0] == (
        "error: the project stores files (media = s3) and AWS_STORAGE_BUCKET_NAME is not set; "
        "the running site was not touched"
    )
    assert errors[1].startswith("hint: export AWS_STORAGE_BUCKET_NAME")
    assert (
        engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout.strip() == serving
    )
    assert standalone.release() == "v2"


def test_unknown_ref_fails_with_the_reason_and_changes_nothing(
    standalone: Standalone, engine: Engine
) -> None:
    serving = engine.docker("inspect", "--format", "{{.Id}}", standalone.name, check=False).stdout
    result = standalone.deploy("--ref", "no-such-branch")
    assert result.returncode != 0
    assert "error: git checkout no-such-branch failed" in result.stderr
    assert "hint:" in result.stderr
    assert (
        engine.docker("inspect", "--format", "{{.Id}}", standalone.name, check=False).stdout
        == serving
    )


def test_a_ref_or_repository_that_looks_like_a_git_option_is_never_taken_for_one(
    standalone: Standalone, engine: Engine, tmp_path: Path
) -> None:
    """docs/security.md, finding 8. `git checkout --orphan=NAME` would have "succeeded" and
    deployed whatever HEAD was; `--upload-pack` would have named a command for git to run."""
    serving = engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout
    result = standalone.deploy("--ref", "--orphan=cstest-evil")
    assert result.returncode == 1
    assert "error: git checkout --orphan=cstest-evil failed: no such branch" in result.stderr
    mark = tmp_path / "ran"
    argv = [str(SCRIPT), "--repo", f"--upload-pack=touch {mark}", "--name", standalone.name]
    result = subprocess.run(
        argv, env=standalone.env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert f"error: git clone --upload-pack=touch {mark} failed" in result.stderr
    assert not mark.exists()
    assert engine.docker("inspect", "--format", "{{.Id}}", standalone.name).stdout == serving


def test_missing_secret_key_is_refused_before_anything_happens(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "--repo", str(tmp_path)],
        env={"PATH": "/usr/bin:/bin", "DJANGO_ALLOWED_HOSTS": SITE_HOST},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "error: DJANGO_SECRET_KEY is not set"
    assert result.stderr.splitlines()[1].startswith("hint: export DJANGO_SECRET_KEY=")
