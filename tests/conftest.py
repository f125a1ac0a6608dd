"""Shared test plumbing: how suites that need
something the machine may lack (a container engine, a browser) are skipped or failed.

Under CI=true nothing is skipped: a missing prerequisite fails the run.
"""

import os

import pytest


def require(condition: bool, what: str) -> None:
    """Skip (locally) or fail (under CI) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not available, and CI never skips", pytrace=False)
    pytest.skip(f"SKIPPED SUITE: {what} is not available on this machine")
