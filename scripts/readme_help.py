"""Writes `cloudsite --help` into README.md between its markers (tests/test_readme.py checks
that the README is current). Run: .venv/bin/python scripts/readme_help.py"""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(
    r"(<!-- cloudsite --help: generated [^\n]*-->\n```\n)"
    r"(.*?)"
    r"(```\n<!-- end of cloudsite --help -->)",
    re.DOTALL,
)


def help_text() -> str:
    result = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(Path(sys.executable).with_name("cloudsite")), "--help"],
        capture_output=True, text=True, check=True, env={"COLUMNS": "100", "PATH": ""},
    )  # fmt: skip
    return result.stdout


def rendered(readme: str) -> str:
    if not BLOCK.search(readme):
        raise SystemExit("README.md: the cloudsite --help markers are missing")
    return BLOCK.sub(lambda m: m.group(1) + help_text() + m.group(3), readme)


if __name__ == "__main__":
    README.write_text(rendered(README.read_text()))
