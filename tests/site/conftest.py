from pathlib import Path

import pytest

from tests.site.production import manage

# A database URL that nothing answers: proof that a step needs no database.
NO_DATABASE = "postgres://nobody:nothing@127.0.0.1:9/none"


@pytest.fixture(scope="session")
def production_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Static files collected with the production profile, as the image build does it."""
    root = tmp_path_factory.mktemp("staticfiles")
    result = manage(
        "collectstatic", "--no-input", DJANGO_STATIC_ROOT=str(root), DATABASE_URL=NO_DATABASE
    )
    assert result.returncode == 0, result.stderr
    return root
