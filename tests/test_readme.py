"""The README is a front door: its generated --help block is current, its quickstart is the
two commands, and every document it links to exists."""

import re

from scripts.readme_help import README, rendered


def test_readme_help_block_matches_the_cli() -> None:
    text = README.read_text()
    assert text == rendered(text), "run: .venv/bin/python scripts/readme_help.py"


def test_quickstart_is_exactly_make_run_and_make_test() -> None:
    text = README.read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^    (\S.*?)\s*(?:#.*)?$", quickstart, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]


def test_every_linked_document_exists() -> None:
    text = README.read_text()
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links, "the README links its docs"
    missing = [link for link in links if not (README.parent / link).exists()]
    assert missing == []
