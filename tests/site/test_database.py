"""The suite runs twice: on embedded SQLite and on PostgreSQL (scripts/test.sh sets
CLOUDSITE_EXPECT_DATABASE). This proves the second run really used PostgreSQL."""

import os

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_suite_runs_on_the_database_it_was_asked_for() -> None:
    expected = os.environ.get("CLOUDSITE_EXPECT_DATABASE", "sqlite")
    assert connection.vendor == expected
    if expected == "postgresql":
        assert connection.pg_version >= 130000  # type: ignore[attr-defined]
