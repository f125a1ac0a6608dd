"""Every site test starts, and leaves, with an empty cache: the front page cache would
otherwise answer a test with a page another test rendered."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
