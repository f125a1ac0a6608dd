"""The source zip: the same tree gives the same bytes, and ignore files are honoured."""

import os
import stat
import time
import zipfile
from io import BytesIO
from pathlib import Path

from cloudsite.project.ignore import decide, dockerignore_rules, gitignore_rules
from cloudsite.project.source import package_build


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(root: Path) -> list[str]:
    return list(package_build(root).files)


def test_the_same_tree_packages_to_the_same_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    files = {"site/manage.py": "x", "site/hooks/ApplicationStart.sh": "#!/bin/sh\n", "a.txt": "a"}
    first = package_build(tree(tmp_path / "one", files))
    second_root = tree(tmp_path / "two", dict(reversed(files.items())))
    later = time.time() + 3600
    for path in second_root.rglob("*"):
        os.utime(path, (later, later))
    second = package_build(second_root)
    assert first.data == second.data
    assert first.sha256 == second.sha256


def test_entries_are_sorted_with_fixed_times_and_unix_modes(tmp_path: Path) -> None:
    root = tree(tmp_path, {"b.txt": "b", "a/z.sh": "#!/bin/sh\n", "a/y.txt": "y"})
    (root / "a" / "z.sh").chmod(0o775)
    archive = zipfile.ZipFile(BytesIO(package_build(root).data))
    infos = archive.infolist()
    assert [i.filename for i in infos] == ["a/y.txt", "a/z.sh", "b.txt"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
    assert modes == {"a/y.txt": 0o644, "a/z.sh": 0o755, "b.txt": 0o644}
    assert archive.read("a/z.sh") == b"#!/bin/sh\n"


def test_gitignore_in_any_folder_and_the_git_folder_are_left_out(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "*.log\n/build/\n.venv/\n",
            ".git/config": "[core]",
            "keep.py": "",
            "debug.log": "",
            "site/debug.log": "",
            "build/out.txt": "",
            "site/build/keep.txt": "",  # /build/ is anchored to the root
            ".venv/bin/python": "",
            "site/.gitignore": "db.sqlite3\n!important.log\n",
            "site/db.sqlite3": "",
            "site/important.log": "",
        },
    )
    assert names(root) == [
        ".gitignore",
        "keep.py",
        "site/.gitignore",
        "site/build/keep.txt",
        "site/important.log",
    ]


def test_root_dockerignore_is_honoured_and_can_reinclude(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".dockerignore": "# comment\n**/__pycache__\n*.md\n!README.md\nsite/staticfiles\n"
            ".env\n",
            "README.md": "",
            "NOTES.md": "",
            "site/NOTES.md": "",  # *.md is anchored at the root in docker's rules
            "site/app/__pycache__/x.pyc": "",
            "site/staticfiles/app.css": "",
            "site/buildspec.yml": "",
            ".env": "SECRET=1",
        },
    )
    assert names(root) == [".dockerignore", "README.md", "site/NOTES.md", "site/buildspec.yml"]


def test_gitignore_patterns_follow_gits_rules() -> None:
    rules = gitignore_rules("*.pyc\ndocs/*.html\n**/tmp\nlogs/\n!keep.pyc\n\\#hash\nfoo/**/bar\n")
    cases = {
        ("a.pyc", False): True,
        ("x/y/a.pyc", False): True,
        ("keep.pyc", False): False,
        ("docs/a.html", False): True,
        ("docs/sub/a.html", False): False,
        ("x/docs/a.html", False): False,
        ("a/b/tmp", True): True,
        ("logs", True): True,
        ("logs", False): False,  # logs/ matches folders only
        ("#hash", False): True,
        ("foo/bar", False): True,
        ("foo/a/b/bar", False): True,
    }
    for (path, is_dir), expected in cases.items():
        assert decide(rules, path, is_dir=is_dir) is expected, path


def test_dockerignore_patterns_follow_dockers_rules() -> None:
    rules = dockerignore_rules("/secrets\n*/temp*\nsite/*.sqlite3\n**/*.pem\n")
    cases = {
        "secrets/a.key": True,
        "secrets": True,
        "x/secrets": False,
        "a/temporary.txt": True,
        "a/b/temporary.txt": False,
        "site/db.sqlite3": True,
        "site/x/db.sqlite3": False,
        "deep/down/cert.pem": True,
        "cert.pem": True,
    }
    for path, expected in cases.items():
        assert decide(rules, path, is_dir=False) is expected, path
