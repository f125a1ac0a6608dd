"""Shared test plumbing: how suites that need
something the machine may lack (a container engine, a browser) are skipped or failed.

Under CI=true nothing is skipped: a missing prerequisite fails the run.
"""

import os
from pathlib import Path

import pytest


def require(condition: bool, what: str) -> None:
    """Skip (locally) or fail (under CI) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not available, and CI never skips", pytrace=False)
    pytest.skip(f"SKIPPED SUITE: {what} is not available on this machine")


# A database URL that nothing answers: proof that a step needs no database.
NO_DATABASE = "postgres://nobody:nothing@127.0.0.1:9/none"


@pytest.fixture(scope="session")
def production_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Static files collected as the image build collects them: through the runtime layer at
    its build phase (no secret key, placeholder hosts), with a database URL nothing answers:
    collectstatic needs none."""
    from tests.site.production import manage

    root = tmp_path_factory.mktemp("staticfiles")
    result = manage(
        tmp_path_factory.mktemp("build"),
        "collectstatic",
        "--no-input",
        phase="build",
        CLOUDSITE_STATIC_ROOT=str(root),
        DATABASE_URL=NO_DATABASE,
    )
    assert result.returncode == 0, result.stderr
    return root
