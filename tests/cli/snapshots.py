"""Snapshot files of the CLI's output, with the volatile parts normalised (not skipped):
ids, ARNs' random parts, times, hashes and ports become stable placeholders, so everything
else in the output is compared exactly.

    CLOUDSITE_UPDATE_SNAPSHOTS=1 pytest tests/cli    rewrites the files from the current output
"""

import os
import re
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"

RULES: list[tuple[str, str]] = [
    (r"http://127\.0\.0\.1:\d+", "<endpoint>"),
    (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>"),
    (r"\b[0-9a-f]{64}\b", "<sha256>"),
    (r"sha256 [0-9a-f]{12}\b", "sha256 <sha>"),
    (r"\b(i|sg|vpc|subnet|fl|rtb|igw|eni|nat|eipalloc|lt|ami)-[0-9a-f]{8,17}\b", r"\1-<id>"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", "<datetime>"),
    (r"\b\d{8}T\d{6}\b", "<stamp>"),
    (r"\b\d{2}:\d{2}:\d{2}\b", "<time>"),
    (r"/[0-9a-f]{16}\b", "/<hex>"),
    (r"-[A-Z0-9]{12,13}\b", "-<ID>"),
    (r"-(?=[a-z0-9]*\d)[a-z0-9]{12}\b", "-<id>"),
    (r"(secret:[A-Za-z0-9-]+-<ID>-)[A-Za-z0-9]{6}\b", r"\1<rand>"),
    (r"\(\d+\.\d+ MB", "(<size> MB"),
]


def normalise(text: str) -> str:
    for pattern, replacement in RULES:  # in order: later rules see earlier placeholders
        text = re.sub(pattern, replacement, text)
    return text


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    actual = normalise(text)
    if os.environ.get("CLOUDSITE_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            raise AssertionError(f"snapshot {name} is missing; create it locally and commit it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    expected = path.read_text()
    assert actual == expected, (
        f"{name} differs from its snapshot (CLOUDSITE_UPDATE_SNAPSHOTS=1 rewrites it)"
    )
