"""The source zip carries only the project: symlinks inside the tree are stored as what they
point to, a symlink out of it is refused (never followed), and files that are almost always
secrets are refused at any depth unless include_files names them."""

import io
import os
import zipfile
from pathlib import Path

import pytest

from cloudsite.errors import ProjectError
from cloudsite.project.source import package_build, package_files
from tests.project.test_detect import tree


def shipped(root: Path, include: tuple[str, ...] = ()) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(package_build(root, include=include).data))
    return {name: archive.read(name) for name in archive.namelist()}


def test_a_link_to_a_file_inside_is_stored_as_that_file(tmp_path: Path) -> None:
    tree(tmp_path, {"real/settings.py": "X = 1\n"})
    os.symlink("real/settings.py", tmp_path / "alias.py")
    files = shipped(tmp_path)
    assert files["alias.py"] == files["real/settings.py"] == b"X = 1\n"
    info = zipfile.ZipFile(io.BytesIO(package_build(tmp_path).data)).getinfo("alias.py")
    assert (info.external_attr >> 16) & 0o170000 == 0o100000  # a regular file, not a link


def test_a_link_to_a_folder_inside_is_stored_as_its_files_and_cannot_loop(tmp_path: Path) -> None:
    tree(tmp_path, {"shared/templates/base.html": "<html>\n"})
    os.symlink("shared", tmp_path / "app")
    os.symlink("..", tmp_path / "shared" / "up")  # a link back to the root
    names = sorted(shipped(tmp_path))
    assert "app/templates/base.html" in names and "shared/templates/base.html" in names
    assert not [n for n in names if "/up/" in n]  # the root was walked already: no loop


def test_the_package_names_the_links_it_stored_as_their_targets(tmp_path: Path) -> None:
    tree(tmp_path, {"shared/a.txt": "a\n", "shared/b.txt": "b\n", "real.py": "X = 1\n"})
    os.symlink("shared", tmp_path / "docs")
    os.symlink("real.py", tmp_path / "alias.py")
    assert package_build(tmp_path).links == ("alias.py -> real.py", "docs -> shared")
    os.remove(tmp_path / "alias.py")
    os.remove(tmp_path / "docs")
    assert package_build(tmp_path).links == ()


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc"])
def test_a_link_out_of_the_tree_is_refused_naming_it(tmp_path: Path, target: str) -> None:
    tree(tmp_path, {"manage.py": ""})
    os.symlink(target, tmp_path / "outside")
    with pytest.raises(ProjectError) as raised:
        package_files(tmp_path)
    assert raised.value.what == "source_dir"
    assert f"outside -> {target} is a symlink out of the project" in raised.value.why
    assert ".gitignore" in raised.value.hint


def test_an_ignored_link_out_of_the_tree_is_simply_left_out(tmp_path: Path) -> None:
    tree(tmp_path, {"manage.py": "", ".gitignore": "outside\n"})
    os.symlink("/etc/passwd", tmp_path / "outside")
    assert "outside" not in shipped(tmp_path)


@pytest.mark.parametrize(
    ("path", "what"),
    [
        (".env", "an environment file"),
        ("site/.env.production", "an environment file"),
        ("secrets/key.pem", "a key or certificate"),
        ("deploy/server.key", "a private key"),
        ("id_rsa", "an SSH key"),
        (".ssh/id_ed25519", "a file of .ssh/"),
        (".aws/credentials", "a file of .aws/"),
        ("db.sqlite3", "a database"),
        (".git-credentials", "git credentials"),
        (".netrc", "credentials"),
        (".npmrc", "a registry token"),
        (".pypirc", "a registry token"),
        ("infra/terraform.tfstate", "Terraform state, with its secrets"),
    ],
)
def test_a_secret_looking_file_is_refused_at_any_depth(
    tmp_path: Path, path: str, what: str
) -> None:
    tree(tmp_path, {"manage.py": "", path: "secret\n"})
    with pytest.raises(ProjectError) as raised:
        package_files(tmp_path)
    assert raised.value.what == "include_files"
    assert raised.value.why.startswith(f"{path} looks like {what}")
    assert f'include_files = ["{path}"]' in raised.value.hint
    assert shipped(tmp_path, include=(path,))[path] == b"secret\n"  # listed: shipped on purpose


def test_templates_of_secret_files_and_public_keys_ship(tmp_path: Path) -> None:
    tree(tmp_path, {".env.example": "KEY=\n", "id_rsa.pub": "ssh-rsa\n", "app/keys.py": ""})
    assert {".env.example", "id_rsa.pub", "app/keys.py"} <= set(shipped(tmp_path))


def test_a_secret_file_that_git_ignores_is_not_an_error(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {"manage.py": "", ".gitignore": ".env\n*.sqlite3\n", ".env": "X=1\n", "db.sqlite3": ""},
    )
    assert sorted(shipped(tmp_path)) == [".gitignore", "manage.py"]


def test_the_package_knows_its_largest_files(tmp_path: Path) -> None:
    tree(tmp_path, {"a.txt": "a" * 10, "b.txt": "b" * 300, "c.txt": "c" * 20})
    assert package_build(tmp_path).largest(2) == [("b.txt", 300), ("c.txt", 20)]
