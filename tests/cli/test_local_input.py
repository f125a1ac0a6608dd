"""`cloudsite local` on a machine that lacks what it needs, or with a bad --port: one line
that says what to install or change, exit 2, and nothing made (no state folder)."""

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Recorder, invoke


def only(tmp_path: Path, *tools: str) -> str:
    """A PATH that holds python and the named tools only."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("python3", *tools):
        found = shutil.which(tool) or (sys.executable if tool == "python3" else None)
        if found:
            (folder / tool).symlink_to(found)
    return str(folder)


def test_without_haproxy_or_nginx_local_up_names_them_and_makes_nothing(
    project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    result = invoke("local", "up", env={**recorder.env, "PATH": only(tmp_path, "podman")})
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: local: no TLS edge: neither HAProxy nor nginx is installed"
    assert lines[1].startswith("hint: install one (apt-get install haproxy, or nginx")
    assert not (project / ".cloudsite").exists()


def test_an_edge_asked_for_that_is_not_installed_is_refused_in_one_line(
    project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    path = only(tmp_path, "podman", "haproxy")
    result = invoke("local", "up", "--edge", "nginx", env={**recorder.env, "PATH": path})
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: --edge: nginx is not installed, so it cannot be the TLS edge",
        "hint: install it (apt-get install nginx), or pass --edge auto",
    ]
    assert not (project / ".cloudsite").exists()


@pytest.mark.parametrize("edge", ["haproxy", "nginx"])
def test_with_either_edge_but_no_engine_the_engine_is_what_is_named(
    edge: str, project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    """HAProxy alone, or nginx alone, is an edge: the next thing missing is the engine."""
    if not shutil.which(edge):
        pytest.skip(f"{edge} is not installed here")
    result = invoke("local", "up", env={**recorder.env, "PATH": only(tmp_path, edge)})
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0] == "error: local: no container engine: neither a Docker daemon nor podman answers"
    )
    assert "install podman" in lines[1] and "containers.conf" in lines[1]
    assert not (project / ".cloudsite").exists()


def test_a_port_already_taken_is_refused_in_one_line(project: Path, recorder: Recorder) -> None:
    if not shutil.which("haproxy") and not shutil.which("nginx"):
        pytest.skip("the edge is checked first, and neither HAProxy nor nginx is installed")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(
            "local", "up", "--port", str(port), env={**recorder.env, "PATH": os.environ["PATH"]}
        )
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == f"error: --port: {port} is already in use on 127.0.0.1 (another server listens there)"
    )
    assert (
        lines[1]
        == f"hint: pass another, e.g. --port {port + 1}, or leave --port out for a free one"
    )
    assert not (project / ".cloudsite").exists()
