"""Ignore files, read the way git and docker read them, without either tool installed.

- `.gitignore` (any folder): a pattern without a slash matches at any depth below its folder;
  one with a slash is anchored to its folder; `dir/` matches folders only; `!` re-includes;
  the last matching line wins; nothing inside an ignored folder can be re-included.
- `.dockerignore` (the source root only, as docker reads it): every pattern is anchored at the
  root; a pattern that matches a folder also matches everything inside it; `!` re-includes.
Both: `*` and `?` stop at `/`, `**` crosses folders, `[abc]` is a class, `#` starts a comment.

Why not a library: tests/project/test_ignore.py judges these rules against git itself on 65
tricky cases, and they agree on all of them; pathspec (1.1.1), which black and mypy use, gives
a different answer on two of them (a folder re-included with `!*/`, and `dir/**/`), and the
same test says when it stops doing so.
"""

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _glob_regex(glob: str) -> str:
    """A glob (relative, no leading slash) as a regex matched against a whole path."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 2) if glob[i + 1] == "]" else glob.index("]", i + 1)
            body = glob[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        elif glob[i] == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def _lines(text: str) -> list[tuple[str, bool]]:
    """(pattern, negated) for each meaningful line."""
    result = []
    for raw in text.splitlines():
        line = raw.rstrip("\n")
        if not line.endswith("\\ "):
            line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith(("\\!", "\\#")):  # a backslash escapes ! and #
            line = line[1:]
        if line:
            result.append((line, negate))
    return result


def gitignore_rules(text: str) -> list[Rule]:
    rules = []
    for pattern, negate in _lines(text):
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        pattern = pattern.lstrip("/")
        body = _glob_regex(pattern)
        regex = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
        rules.append(Rule(re.compile(regex, re.DOTALL), negate, dir_only))
    return rules


def dockerignore_rules(text: str) -> list[Rule]:
    rules = []
    for pattern, negate in _lines(text):
        cleaned = posixpath.normpath(pattern.strip()).lstrip("/")  # like Go's filepath.Clean
        if cleaned in ("", "."):
            continue
        # Matching a folder matches its contents too.
        regex = f"^{_glob_regex(cleaned)}(?:/.*)?$"
        rules.append(Rule(re.compile(regex, re.DOTALL), negate, False))
    return rules


def decide(rules: list[Rule], path: str, *, is_dir: bool, current: bool = False) -> bool:
    """Whether `path` (relative to the rules' folder) is ignored: the last matching rule wins;
    `current` is the verdict before these rules."""
    ignored = current
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(path):
            ignored = not rule.negate
    return ignored
