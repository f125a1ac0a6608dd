"""Which edge `cloudsite local` runs (site._edge_kind), on machines with HAProxy, nginx,
both or neither, with and without a rehearsal already up; and the nginx command line and
error line for the versions and failures nginx has."""

import subprocess
from pathlib import Path

import pytest

from cloudsite.errors import UsageError
from cloudsite.local import edge, site
from cloudsite.local.nginx import argv, reason


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The edges installed on the pretend machine (edit the list in the test)."""
    installed: list[str] = []
    monkeypatch.setattr(edge, "installed", lambda: [k for k in edge.KINDS if k in installed])
    return installed


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [(["haproxy", "nginx"], "haproxy"), (["nginx"], "nginx"), (["haproxy"], "haproxy")],
)
def test_auto_prefers_haproxy_and_takes_nginx_when_it_is_all_there_is(
    machine: list[str], installed: list[str], chosen: str
) -> None:
    machine += installed
    assert site._edge_kind("auto", {}) == chosen


def test_auto_keeps_the_edge_the_rehearsal_runs(machine: list[str]) -> None:
    machine += ["haproxy", "nginx"]
    assert site._edge_kind("auto", {"edge": "nginx", "instances": [{"name": "i1"}]}) == "nginx"


def test_a_state_from_before_the_choice_is_haproxys(machine: list[str]) -> None:
    """state.json written before there was an "edge" key: HAProxy was the only edge then."""
    machine += ["haproxy", "nginx"]
    old = {"name": "mysite", "port": 8443, "instances": [{"name": "i1"}]}
    assert site._edge_kind(None, old) == "haproxy"
    assert site._edge_kind("auto", old) == "haproxy"
    with pytest.raises(UsageError) as refused:
        site._edge_kind("nginx", old)
    assert refused.value.why.startswith("this rehearsal's edge is HAProxy;")


def test_commands_that_only_read_or_remove_need_no_edge_installed(machine: list[str]) -> None:
    assert site._edge_kind(None, {"edge": "nginx"}) == "nginx"
    assert site._edge_kind(None, {}) == "haproxy"


def test_neither_installed_is_one_line_naming_both(machine: list[str]) -> None:
    with pytest.raises(UsageError) as refused:
        site._edge_kind("auto", {})
    assert refused.value.why == "no TLS edge: neither HAProxy nor nginx is installed"


def test_nginx_before_1_19_5_is_started_without_the_error_log_option() -> None:
    folder = Path("/srv/project/.cloudsite/local/nginx")
    assert argv(folder, (1, 18, 0)) == ["nginx", "-p", str(folder)]  # Ubuntu 22.04, Debian 11
    assert argv(folder, (1, 22, 1)) == ["nginx", "-e", str(folder / "error.log"), "-p", str(folder)]


def test_nginx_says_why_in_its_first_emerg_line_not_its_last() -> None:
    said = subprocess.CompletedProcess(
        ["nginx", "-t"],
        1,
        "",
        'nginx: [emerg] unknown "home" variable\n'
        "nginx: configuration file /x/nginx.conf test failed\n",
    )
    assert reason(said) == 'unknown "home" variable'
