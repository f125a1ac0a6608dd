"""verify's AWS API checks: pure rules on described resources, then against moto's server
with stacks that each get one thing wrong (and the network side served by the HAProxy edge)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from cloudsite.verify import Report, StackFacts, stack_facts, verify_site
from cloudsite.verify.aws import internet_wide, load_balancer_firewall
from tests.support.moto import aws_env
from tests.verify.conftest import HOST
from tests.verify.edge import Edge, EdgeConfig
from tests.verify.fake_stack import CONFIGURED_CIDRS, CONFIGURED_POLICY, Faults, build_stack
from tests.verify.pki import Pki


def rule(port: int, *cidrs: str, protocol: str = "tcp") -> dict:
    return {
        "IpProtocol": protocol,
        "FromPort": port,
        "ToPort": port,
        "IpRanges": [{"CidrIp": c} for c in cidrs if ":" not in c],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in cidrs if ":" in c],
    }


ALL_OK = rule(443, *CONFIGURED_CIDRS)


def test_a_load_balancer_group_open_to_exactly_the_configured_cidrs_is_right() -> None:
    group = {"IpPermissions": [rule(443, *CONFIGURED_CIDRS), rule(80, *CONFIGURED_CIDRS)]}
    assert load_balancer_firewall(group, configured=CONFIGURED_CIDRS) == []


@pytest.mark.parametrize(
    ("permissions", "problem"),
    [
        ([rule(443, "0.0.0.0/0")], "tcp/443 open to 0.0.0.0/0"),
        ([rule(443, "203.0.113.0/24")], "tcp/443 closed to 2001:db8::/32"),
        ([ALL_OK, rule(22, "198.51.100.0/24")], "tcp/22 open to 198.51.100.0/24"),
        ([ALL_OK, rule(0, "10.0.0.0/8", protocol="-1")], "all traffic open to 10.0.0.0/8"),
        ([rule(80, *CONFIGURED_CIDRS)], "tcp/443 not open at all"),
    ],
)  # fmt: skip
def test_a_load_balancer_group_that_differs_is_reported(permissions: list, problem: str) -> None:
    assert problem in load_balancer_firewall(
        {"IpPermissions": permissions}, configured=CONFIGURED_CIDRS
    )


@pytest.mark.parametrize(
    ("source", "open_to_all"),
    [("0.0.0.0/0", True), ("::/0", True), ("0.0.0.0/1", True), ("10.0.0.0/8", False),
     ("203.0.113.7/32", False), ("sg-0123", False)],
)  # fmt: skip
def test_what_counts_as_open_to_the_internet(source: str, open_to_all: bool) -> None:
    assert internet_wide(source) is open_to_all


def test_stack_facts_come_from_outputs_and_parameters() -> None:
    described = {
        "StackName": "shop",
        "Outputs": [
            {"OutputKey": "SiteUrl", "OutputValue": "https://shop.example.com/"},
            {"OutputKey": "TargetGroupArn", "OutputValue": "arn:tg"},
        ],
        "Parameters": [
            {
                "ParameterKey": "AllowedClientCidrs",
                "ParameterValue": "203.0.113.0/24,198.51.100.0/24",
            },
            {"ParameterKey": "TlsPolicy", "ParameterValue": CONFIGURED_POLICY},
            {"ParameterKey": "DomainName", "ParameterValue": ""},
        ],
    }
    facts = StackFacts.from_stack(described)
    assert facts == StackFacts(
        name="shop",
        site_url="https://shop.example.com/",
        target_group_arn="arn:tg",
        client_cidrs=("203.0.113.0/24", "198.51.100.0/24"),
        tls_policy=CONFIGURED_POLICY,
    )


# ------------------------------------------------------------ against moto's server
# (the `endpoint` fixture is in conftest.py)


def facts_for(name: str, *, edge: Edge, faults: Faults | None = None) -> tuple[StackFacts, str]:
    balancer_dns = build_stack(name, site_url=edge.url, faults=faults or Faults())
    return stack_facts(name, cloudformation=boto3.client("cloudformation")), balancer_dns


def verify_stack(
    name: str,
    *,
    edge: Edge,
    pki: Pki,
    faults: Faults | None = None,
    balancer_address: str = "127.0.0.1",
) -> tuple[Report, str]:
    """Build the stack, then verify_site on it through the edge: (report, balancer DNS name)."""
    edge.apply(EdgeConfig(cert=pki.good))
    facts, balancer = facts_for(name, edge=edge, faults=faults)
    report = verify_site(
        stack_facts=facts,  # no URL: it comes from the stack's SiteUrl output
        http_port=edge.http_port,
        resolve_overrides={HOST: "127.0.0.1", balancer: balancer_address},
        ca_file=pki.ca,
    )
    return report, balancer


@pytest.mark.emulator
@pytest.mark.network
def test_a_stack_as_configured_passes_every_check(endpoint: str, edge: Edge, pki: Pki) -> None:
    report, _ = verify_stack("as-configured", edge=edge, pki=pki)
    assert report.failed_ids() == set(), [(c.id, c.value) for c in report.checks]
    value = {c.id: c.value for c in report.checks}
    assert value["dns"] == f"{HOST} -> 127.0.0.1 (the load balancer)"
    assert value["targets"] == "2/2 healthy"
    assert (
        value["lb-firewall"]
        == f"80 and 443 open to {', '.join(CONFIGURED_CIDRS)} only, as configured"
    )
    assert value["instance-firewall"] == "1 group, none open to the internet"
    assert value["tls-policy"] == f"{CONFIGURED_POLICY}, as configured"
    assert report.url == edge.url and report.stack == "as-configured"


OLD_POLICY = "ELBSecurityPolicy-2016-08"
# case: (what is wrong, the one check that must fail, what its line must say)
WRONG = {
    "lb group open to everyone": (
        Faults(lb_cidrs=("0.0.0.0/0",)),
        "lb-firewall",
        "open to 0.0.0.0/0",
    ),
    "ssh open on the instances": (
        Faults(instance_open_port=22),
        "instance-firewall",
        "0.0.0.0/0 on tcp/22",
    ),
    "listener on an old policy": (
        Faults(listener_policy=OLD_POLICY),
        "tls-policy",
        f"{OLD_POLICY}, configured",
    ),
    "an instance stopped": (Faults(stop_one_instance=True), "targets", "1/2 healthy"),
}


@pytest.mark.emulator
@pytest.mark.network
@pytest.mark.parametrize("case", list(WRONG))
def test_a_stack_that_gets_one_thing_wrong_fails_exactly_that_check(
    endpoint: str, edge: Edge, pki: Pki, case: str
) -> None:
    faults, check_id, measured = WRONG[case]
    report, _ = verify_stack(case.replace(" ", "-"), edge=edge, pki=pki, faults=faults)
    assert report.failed_ids() == {check_id}, [(c.id, c.value) for c in report.checks]
    assert measured in report.by_id(check_id).value


@pytest.mark.emulator
@pytest.mark.network
def test_a_domain_that_points_elsewhere_fails_dns(endpoint: str, edge: Edge, pki: Pki) -> None:
    report, balancer = verify_stack(
        "dns-elsewhere", edge=edge, pki=pki, balancer_address="127.0.0.2"
    )
    assert report.failed_ids() == {"dns"}
    assert report.by_id("dns").value == (
        f"{HOST} -> 127.0.0.1, not the load balancer ({balancer} -> 127.0.0.2)"
    )


@pytest.mark.emulator
@pytest.mark.network
def test_cli_reads_the_site_url_from_the_stack_and_exits_1_on_a_wrong_firewall(
    endpoint: str, edge: Edge, pki: Pki
) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    _, balancer = facts_for("cli-open-lb", edge=edge, faults=Faults(lb_cidrs=("0.0.0.0/0",)))
    env = {k: v for k, v in os.environ.items() if k != "CLOUDSITE_NAME"} | aws_env(endpoint)
    argv = [
        sys.executable, "-m", "cloudsite", "verify", "--stack", "cli-open-lb", "--json",
        "--http-port", str(edge.http_port), "--ca-bundle", str(pki.ca),
        "--resolve", f"{HOST}:127.0.0.1", "--resolve", f"{balancer}:127.0.0.1",
    ]  # fmt: skip
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["url"] == edge.url and report["stack"] == "cli-open-lb"
    assert [c["id"] for c in report["checks"] if c["status"] == "fail"] == ["lb-firewall"]
    assert len(report["checks"]) == 16


@pytest.mark.emulator
@pytest.mark.network
def test_cli_without_url_or_stack_verifies_the_configured_site(
    endpoint: str, edge: Edge, pki: Pki, tmp_path: Path
) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    _, balancer = facts_for("configured-site", edge=edge)
    (tmp_path / "cloudsite.toml").write_text('name = "configured-site"\n')
    env = {k: v for k, v in os.environ.items() if k != "CLOUDSITE_NAME"} | aws_env(endpoint)
    argv = [
        sys.executable, "-m", "cloudsite", "verify", "--json",
        "--http-port", str(edge.http_port), "--ca-bundle", str(pki.ca),
        "--resolve", f"{HOST}:127.0.0.1", "--resolve", f"{balancer}:127.0.0.1",
    ]  # fmt: skip
    result = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["stack"] == "configured-site"


# The region only in cloudsite.toml: the environment names none, or another one.
REGION_ENV = {
    "no-region-in-env": {},
    "another-region-in-env": {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"},
}


@pytest.mark.emulator
@pytest.mark.network
@pytest.mark.parametrize("case", list(REGION_ENV))
def test_cli_runs_the_aws_checks_in_the_configured_region(
    endpoint: str, edge: Edge, pki: Pki, tmp_path: Path, case: str
) -> None:
    """The region in cloudsite.toml is the region of every API call, not only the stack's."""
    edge.apply(EdgeConfig(cert=pki.good))
    _, balancer = facts_for(case, edge=edge)  # in aws_env's region, us-east-1
    (tmp_path / "cloudsite.toml").write_text(f'name = "{case}"\nregion = "us-east-1"\n')
    env = {k: v for k, v in os.environ.items() if k != "CLOUDSITE_NAME"} | aws_env(endpoint)
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(key)
    argv = [
        sys.executable, "-m", "cloudsite", "verify", "--json",
        "--http-port", str(edge.http_port), "--ca-bundle", str(pki.ca),
        "--resolve", f"{HOST}:127.0.0.1", "--resolve", f"{balancer}:127.0.0.1",
    ]  # fmt: skip
    result = subprocess.run(
        argv, env=env | REGION_ENV[case], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["stack"] == case
    value = {c["id"]: c["value"] for c in report["checks"]}
    assert value["targets"] == "2/2 healthy"
    assert value["tls-policy"] == f"{CONFIGURED_POLICY}, as configured"
