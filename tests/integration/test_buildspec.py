"""The runtime layer's buildspec.yml, run by the CodeBuild stand-in on the tree the source zip
unpacks to: the project's checks in the image build, the image pushed to the registry tagged
with the source revision, and the deploy bundle as the artifact."""

import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import REGION, AwsStandIn, Releases
from tests.support.codebuild import codebuild_env, run_build
from tests.support.codedeploy import appspec_hooks
from tests.support.engine import Engine
from tests.support.images import shipped

pytestmark = [pytest.mark.engine, pytest.mark.emulator]

# An S3 object version id, as CodePipeline passes it: it has characters a tag cannot hold.
REVISION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY.MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"
TAG = "rev-3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY.MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo-b7"


def test_buildspec_checks_the_project_pushes_by_revision_and_emits_the_bundle(
    engine: Engine,
    aws: AwsStandIn,
    registry: str,
    releases: Releases,
    build_env: dict[str, str],
    tmp_path: Path,
    figures: list[str],
) -> None:
    # A release of its own, so the project's layer is built (not taken from the cache) and the
    # build's checks run in this log.
    project = releases.source("buildspec")
    (project / "cstest-run.txt").write_text(f"{time.time_ns()}\n")  # not an earlier run's cache
    source = shipped(project, tmp_path / "src")
    repository = f"{registry}/{engine.name('pipeline')}"
    env = engine.script_env(**aws.env, **build_env, CLOUDSITE_ECR_REPOSITORY_URI=repository)
    env.update(codebuild_env(source=source, region=REGION, revision=REVISION, build_number=7))
    env["HOME"] = os.environ.get("HOME", "/root")

    result = run_build(
        source / ".cloudsite" / "runtime" / "buildspec.yml",
        source=source,
        env=env,
        output=tmp_path / "out",
    )
    figures.append(f"buildspec phases: {result.phases}")

    assert result.status == "SUCCEEDED", result.log[-5000:]
    assert result.phases == dict.fromkeys(
        ("install", "pre_build", "build", "post_build"), "SUCCEEDED"
    )
    # The project's own checks ran inside the image build, through the production layer.
    assert "check --deploy: 0 issue(s)" in result.log, result.log[-3000:]
    assert re.search(r"first requests: GET / 200", result.log), result.log[-3000:]
    bundle = result.artifacts
    assert bundle is not None
    names = sorted(p.name for p in bundle.iterdir())
    assert names == ["appspec.yml", "background.json", "hooks", "image-uri"]
    # the release's [processes] and [schedule]: none in this project
    assert json.loads((bundle / "background.json").read_text()) == {
        "processes": [],
        "schedule": [],
    }
    for hooks in appspec_hooks(bundle).values():
        for hook in hooks:
            assert os.access(bundle / hook.location, os.X_OK), hook.location
    assert (bundle / "hooks" / "common.sh").is_file()

    uri = (bundle / "image-uri").read_text().strip()
    assert re.fullmatch(rf"{re.escape(repository)}@sha256:[0-9a-f]{{64}}", uri), uri
    tags = _registry_tags(registry, repository.split("/", 1)[1])
    assert tags == [TAG]  # the revision's tag, and never `latest`
    engine.docker("pull", uri)
    label = engine.docker(
        "image",
        "inspect",
        "--format",
        '{{index .Config.Labels "org.opencontainers.image.revision"}}',
        uri,
    )
    assert label.stdout.strip() == REVISION


def _registry_tags(registry: str, repository: str) -> list[str]:
    url = f"http://{registry.replace('localhost', '127.0.0.1')}/v2/{repository}/tags/list"
    with urllib.request.urlopen(url, timeout=10) as response:
        return sorted(json.load(response)["tags"])
