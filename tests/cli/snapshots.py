"""Snapshot files of the CLI's output, with the volatile parts normalised (not skipped):
ids, ARNs' random parts, times, hashes and ports become stable placeholders, so everything
else in the output is compared exactly.

    CLOUDSITE_UPDATE_SNAPSHOTS=1 pytest tests/cli    rewrites the files from the current output
"""

import os
import re
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"
# Read at import: the tests' clean environment removes every CLOUDSITE_* variable.
UPDATE = os.environ.get("CLOUDSITE_UPDATE_SNAPSHOTS") == "1"
IN_CI = os.environ.get("CI") == "true"

RULES: list[tuple[str, str]] = [
    (r"http://127\.0\.0\.1:\d+", "<endpoint>"),
    (r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+", "<tmp>"),
    (r"Django==\d+\.\d+\.\d+", "Django==<version>"),
    (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>"),
    (r"\b[0-9a-f]{64}\b", "<sha256>"),
    (r"sha256 [0-9a-f]{12}\b", "sha256 <sha>"),
    (r"\b(i|sg|vpc|subnet|fl|rtb|igw|eni|nat|eipalloc|lt|ami)-[0-9a-f]{8,17}\b", r"\1-<id>"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", "<datetime>"),
    (r"\b\d{8}T\d{6}\b", "<stamp>"),
    (r"\b\d{2}:\d{2}:\d{2}\b", "<time>"),
    (r"/[0-9a-f]{16}\b", "/<hex>"),
    (r"-[A-Z0-9]{12,13}\b", "-<ID>"),
    (r"(bucket|repository)-[a-z0-9]{12}\b", r"\1-<id>"),  # CloudFormation's name suffixes
    (r"-(?=[a-z0-9]*\d)[a-z0-9]{12}\b", "-<id>"),
    (r"(secret:[A-Za-z0-9-]+-<ID>-)[A-Za-z0-9]{6}\b", r"\1<rand>"),
    (r"\(\d+\.\d+ MB", "(<size> MB"),
    # What the template holds is the template's business (its own tests check it): the lines
    # listing its resources collapse to one, and counts of them become <n>. The format of a
    # change line is checked exactly in test_changeset_stubbed.
    (r"(?m)(^  (add|change|replace|maybe replace|remove) +\S+ +AWS::\S+\n)+", "  <change lines>\n"),
    (r"\b\d+ to (add|change|replace|maybe replace|remove)\b", r"<n> to \1"),
    (r"\b\d+ bytes\b", "<n> bytes"),
    (r"\b\d+ resources\b", "<n> resources"),
]


def normalise(text: str) -> str:
    for pattern, replacement in RULES:  # in order: later rules see earlier placeholders
        text = re.sub(pattern, replacement, text)
    return text


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    actual = normalise(text)
    if UPDATE or not path.exists():
        if IN_CI and not path.exists():
            raise AssertionError(f"snapshot {name} is missing; create it locally and commit it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    expected = path.read_text()
    if actual != expected:
        import difflib

        lines = difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), name, "now"
        )
        raise AssertionError(
            f"{name} differs (CLOUDSITE_UPDATE_SNAPSHOTS=1 rewrites):\n" + "".join(lines)
        )
