"""`cloudsite verify` as a user runs it: the checklist, --json, exit codes, one-line errors,
and timeouts that bound a run against a server that never answers."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudsite.verify import Status, verify_site
from tests.support.servers import free_port
from tests.verify.conftest import HOST
from tests.verify.edge import Edge, EdgeConfig
from tests.verify.pki import Pki

pytestmark = pytest.mark.network


def cloudsite(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLOUDSITE_NAME"}
    return subprocess.run(
        [sys.executable, "-m", "cloudsite", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def against(edge: Edge, pki: Pki, *extra: str) -> subprocess.CompletedProcess[str]:
    return cloudsite(
        "verify", edge.url, "--http-port", str(edge.http_port), "--ca-bundle", str(pki.ca),
        "--resolve", f"{HOST}:127.0.0.1", *extra,
    )  # fmt: skip


def test_prints_one_line_per_check_and_a_summary_and_exits_0(edge: Edge, pki: Pki) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    result = against(edge, pki)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"verify {edge.url}"
    checks = [
        line.split(None, 1) for line in lines[1:] if line.startswith("  ") and "note:" not in line
    ]
    assert len(checks) == 12 and {status for status, _ in checks} == {"pass"}
    assert "  pass  TLS 1.0              refused" in lines
    assert lines[-1].startswith("OK: 12 passed, 0 warnings, 0 failed in ")


def test_json_output_carries_every_check_with_its_value(edge: Edge, pki: Pki) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    result = against(edge, pki, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["counts"] == {"pass": 12, "warn": 0, "fail": 0}
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["tls-1.1"] == {
        "id": "tls-1.1", "label": "TLS 1.1", "status": "pass", "value": "refused", "hint": ""
    }  # fmt: skip
    assert by_id["headers"]["value"].startswith("A+")


def test_a_failed_check_exits_1_and_says_what_to_do(edge: Edge, pki: Pki) -> None:
    edge.apply(EdgeConfig(cert=pki.good, insecure_cookie=True))
    result = against(edge, pki)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failing = [line for line in lines if line.startswith("  fail")]
    assert len(failing) == 1 and failing[0].startswith("  fail  cookies              SRV: ")
    assert lines[lines.index(failing[0]) + 1].strip().startswith("hint: ")
    assert lines[-1].startswith("FAILED: 11 passed, 0 warnings, 1 failed in ")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("http://a.example/",), "error: http://a.example/: verify checks a site over HTTPS"),
        (("https://nothing-here.invalid/",), "error: nothing-here.invalid: does not resolve"),
        (("a.example", "--resolve", "a.example"), "error: --resolve a.example: not HOST:ADDRESS"),
    ],
)
def test_bad_input_gives_a_one_line_error_and_a_hint(args: tuple[str, ...], error: str) -> None:
    result = cloudsite("verify", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    first, hint = result.stderr.splitlines()
    assert first.startswith(error) and hint.startswith("hint: ")


def test_nothing_listening_is_a_one_line_error_not_a_traceback() -> None:
    port = free_port()
    result = cloudsite(
        "verify", f"https://{HOST}:{port}/", "--resolve", f"{HOST}:127.0.0.1"
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: https://{HOST}:{port}/: connection refused by {HOST}:{port}",
        "hint: check that the load balancer is up and that its security group lets your "
        "address in (allowed_cidrs)",
    ]


@contextlib.contextmanager
def tarpit() -> Iterator[int]:
    """A server that accepts connections and then never says a word (a stuck edge)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for sock in [*held, server]:
            sock.close()


def test_a_server_that_never_answers_costs_one_timeout_not_one_per_check() -> None:
    with tarpit() as https_port, tarpit() as http_port:
        started = time.monotonic()
        report = verify_site(
            f"https://{HOST}:{https_port}/",
            http_port=http_port,
            timeout=1.0,
            resolve_overrides={HOST: "127.0.0.1"},
        )
        took = time.monotonic() - started
    assert took < 5, f"{took:.1f} s"
    assert {c.id for c in report.checks if c.status is Status.FAIL} == {
        c.id for c in report.checks if c.id != "dns"
    }
    assert "within 1 s" in report.by_id("tls-1.2").value


def test_without_a_url_the_configured_stack_is_used_and_a_missing_region_is_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "cloudsite.toml").write_text('name = "nosuchsite"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDSITE_"))}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    result = subprocess.run(
        [sys.executable, "-m", "cloudsite", "verify"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    first, second = result.stderr.splitlines()[:2]
    assert first == "error: stack nosuchsite: You must specify a region."
    assert second.startswith("hint: give a URL, or set the region")
