"""Checks read from the AWS API when verify knows the stack: target health, the firewalls and
the listener's TLS policy. What "configured" means comes from the stack's own parameters
(the values the last deploy passed), or from the caller (`up` passes its config's values).

The stack's interface (output and parameter names) is in cloudsite.outputs.
"""

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cloudsite.outputs import Output, Param
from cloudsite.verify.model import Check, VerifyError, failed, passed, warned

HTTPS, HTTP = 443, 80
# (id, label) of each API check; CHECKS at the end pairs them with their functions.
TARGETS = ("targets", "target health")
LB_FIREWALL = ("lb-firewall", "load balancer firewall")
INSTANCE_FIREWALL = ("instance-firewall", "instance firewall")
TLS_POLICY = ("tls-policy", "listener TLS policy")


@dataclass(frozen=True)
class StackFacts:
    """What verify needs to know about a deployed stack."""

    name: str
    site_url: str | None = None
    load_balancer_dns: str | None = None
    https_listener_arn: str | None = None
    target_group_arn: str | None = None
    load_balancer_sg: str | None = None
    instance_sg: str | None = None
    client_cidrs: tuple[str, ...] | None = None
    tls_policy: str | None = None

    @classmethod
    def from_stack(cls, stack: Mapping[str, Any]) -> "StackFacts":
        """From one entry of describe_stacks' Stacks: outputs and parameters by name."""
        outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
        params = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
        return cls.from_outputs(stack["StackName"], outputs=outputs, parameters=params)

    @classmethod
    def from_outputs(
        cls, name: str, *, outputs: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> "StackFacts":
        """From a stack's outputs and parameters, each already keyed by name."""
        cidrs = parameters.get(Param.ALLOWED_CLIENT_CIDRS)
        return cls(
            name=name,
            site_url=outputs.get(Output.SITE_URL),
            load_balancer_dns=outputs.get(Output.LOAD_BALANCER_DNS_NAME),
            https_listener_arn=outputs.get(Output.HTTPS_LISTENER_ARN),
            target_group_arn=outputs.get(Output.TARGET_GROUP_ARN),
            load_balancer_sg=outputs.get(Output.LOAD_BALANCER_SECURITY_GROUP_ID),
            instance_sg=outputs.get(Output.INSTANCE_SECURITY_GROUP_ID),
            client_cidrs=split_list(cidrs) if cidrs is not None else None,
            tls_policy=parameters.get(Param.TLS_POLICY) or None,
        )


def split_list(value: str) -> tuple[str, ...]:
    """A CommaDelimitedList parameter's value. AWS returns "a,b"; moto returns the Python repr
    "['a', 'b']", so brackets, quotes and spaces are separators too."""
    return tuple(item for item in re.split(r"[\s,\[\]'\"]+", value) if item)


def stack_facts(name: str, *, cloudformation: Any) -> StackFacts:
    """describe_stacks, with a one-line error when the stack cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        why = exc.response.get("Error", {}).get("Message", str(exc))
        raise VerifyError(
            f"stack {name}", why, hint="check the stack name (--stack) and the AWS region"
        ) from None
    except BotoCoreError as exc:
        raise VerifyError(
            f"stack {name}", str(exc), hint="check AWS credentials and network access"
        ) from None
    return StackFacts.from_stack(stacks[0])


def targets_check(facts: StackFacts, *, ec2: Any, elbv2: Any) -> Check:
    check_id, label = TARGETS
    if not facts.target_group_arn:
        return _missing(check_id, label, Output.TARGET_GROUP_ARN)
    described = elbv2.describe_target_health(TargetGroupArn=facts.target_group_arn)
    targets = described["TargetHealthDescriptions"]
    healthy = [t for t in targets if t["TargetHealth"]["State"] == "healthy"]
    value = f"{len(healthy)}/{len(targets)} healthy"
    if not targets or len(healthy) < len(targets):
        sick = ", ".join(
            f"{t['Target']['Id']} {t['TargetHealth']['State']}"
            + (f" ({t['TargetHealth']['Reason']})" if t["TargetHealth"].get("Reason") else "")
            for t in targets
            if t not in healthy
        )
        return failed(
            check_id,
            label,
            f"{value}{': ' + sick if sick else ''}",
            hint="cloudsite logs shows why; the load balancer checks /healthz on each instance",
        )
    return passed(check_id, label, value)


def sources(permission: Mapping[str, Any]) -> list[str]:
    """Every source of one ingress permission, as text (CIDRs, prefix lists, groups)."""
    return (
        [r["CidrIp"] for r in permission.get("IpRanges", [])]
        + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        + [p["PrefixListId"] for p in permission.get("PrefixListIds", [])]
        + [g["GroupId"] for g in permission.get("UserIdGroupPairs", [])]
    )


def ports(permission: Mapping[str, Any]) -> str:
    if permission.get("IpProtocol") == "-1":
        return "all traffic"
    low, high = permission.get("FromPort"), permission.get("ToPort")
    span = f"{low}" if low == high else f"{low}-{high}"
    return f"{permission.get('IpProtocol')}/{span}"


def load_balancer_firewall(group: Mapping[str, Any], *, configured: Iterable[str]) -> list[str]:
    """What is wrong with the load balancer's security group (empty when it matches): only
    ports 443 and 80, each open to exactly the configured client CIDRs."""
    wanted = {ipaddress.ip_network(c, strict=False) for c in configured}
    problems = []
    opened = set()
    for permission in group.get("IpPermissions", []):
        where, listed = ports(permission), sources(permission)
        opened.add(where)
        if where not in {f"tcp/{HTTPS}", f"tcp/{HTTP}"}:
            problems.append(f"{where} open to {', '.join(listed)}")
            continue
        found = set()
        for source in listed:
            try:
                found.add(ipaddress.ip_network(source, strict=False))
            except ValueError:
                problems.append(f"{where} open to {source}, which is not a configured CIDR")
        if found - wanted:
            extra = ", ".join(sorted(str(n) for n in found - wanted))
            problems.append(f"{where} open to {extra}")
        if where == f"tcp/{HTTPS}" and wanted - found:
            missing = ", ".join(sorted(str(n) for n in wanted - found))
            problems.append(f"{where} closed to {missing}")
    if f"tcp/{HTTPS}" not in opened:
        problems.append(f"tcp/{HTTPS} not open at all")
    return problems


def lb_firewall_check(facts: StackFacts, *, ec2: Any, elbv2: Any) -> Check:
    check_id, label = LB_FIREWALL
    if not facts.load_balancer_sg:
        return _missing(check_id, label, Output.LOAD_BALANCER_SECURITY_GROUP_ID)
    if facts.client_cidrs is None:
        return warned(
            check_id,
            label,
            "configured client CIDRs unknown",
            hint=f"the stack has no {Param.ALLOWED_CLIENT_CIDRS} parameter",
        )
    group = ec2.describe_security_groups(GroupIds=[facts.load_balancer_sg])["SecurityGroups"][0]
    problems = load_balancer_firewall(group, configured=facts.client_cidrs)
    configured = ", ".join(facts.client_cidrs)
    if problems:
        return failed(
            check_id,
            label,
            f"{facts.load_balancer_sg}: {'; '.join(problems)} (configured: {configured})",
            hint="redeploy (cloudsite up) to restore the rules, and remove any added by hand",
        )
    return passed(check_id, label, f"80 and 443 open to {configured} only, as configured")


def internet_wide(source: str) -> bool:
    """0.0.0.0/0, ::/0, or any public block of a /8 or wider (0.0.0.0/1 is no better)."""
    try:
        network = ipaddress.ip_network(source, strict=False)
    except ValueError:
        return False  # a prefix list or a security group, not an address range
    return network.prefixlen <= 8 and not network.is_private


def instance_firewall_check(facts: StackFacts, *, ec2: Any, elbv2: Any) -> Check:
    """The instance security group, and every group on an instance behind the target group."""
    check_id, label = INSTANCE_FIREWALL
    groups = {facts.instance_sg} if facts.instance_sg else set()
    if facts.target_group_arn:
        described = elbv2.describe_target_health(TargetGroupArn=facts.target_group_arn)
        instances = [
            t["Target"]["Id"]
            for t in described["TargetHealthDescriptions"]
            if t["Target"]["Id"].startswith("i-")
        ]
        if instances:
            reservations = ec2.describe_instances(InstanceIds=instances)["Reservations"]
            groups |= {
                g["GroupId"]
                for r in reservations
                for i in r["Instances"]
                for g in i["SecurityGroups"]
            }
    if not groups:
        return _missing(check_id, label, Output.INSTANCE_SECURITY_GROUP_ID)
    described_groups = ec2.describe_security_groups(GroupIds=sorted(groups))["SecurityGroups"]
    open_rules = [
        f"{g['GroupId']} allows {source} on {ports(p)}"
        for g in described_groups
        for p in g.get("IpPermissions", [])
        for source in sources(p)
        if internet_wide(source)
    ]
    if open_rules:
        return failed(
            check_id,
            label,
            "; ".join(open_rules),
            hint="instances take traffic from the load balancer's group only; "
            "use SSM Session Manager instead of SSH from anywhere",
        )
    counted = "1 group" if len(groups) == 1 else f"{len(groups)} groups"
    return passed(check_id, label, f"{counted}, none open to the internet")


def tls_policy_check(facts: StackFacts, *, ec2: Any, elbv2: Any) -> Check:
    check_id, label = TLS_POLICY
    if not facts.https_listener_arn:
        return _missing(check_id, label, Output.HTTPS_LISTENER_ARN)
    listener = elbv2.describe_listeners(ListenerArns=[facts.https_listener_arn])["Listeners"][0]
    policy = listener.get("SslPolicy") or "(none)"
    if facts.tls_policy is None:
        return warned(
            check_id,
            label,
            f"{policy}; configured policy unknown",
            hint=f"the stack has no {Param.TLS_POLICY} parameter",
        )
    if policy != facts.tls_policy:
        return failed(
            check_id,
            label,
            f"{policy}, configured {facts.tls_policy}",
            hint="redeploy (cloudsite up); a policy changed by hand drifts from the stack",
        )
    return passed(check_id, label, f"{policy}, as configured")


def _missing(check_id: str, label: str, output: str) -> Check:
    return failed(
        check_id,
        label,
        f"the stack has no {output} output",
        hint="the stack predates this cloudsite version; redeploy with cloudsite up",
    )


class AwsCheck(Protocol):
    def __call__(self, facts: StackFacts, *, ec2: Any, elbv2: Any) -> Check: ...


# Every API check as (id, label, function), in the checklist's order.
CHECKS: tuple[tuple[str, str, AwsCheck], ...] = (
    (*TARGETS, targets_check),
    (*LB_FIREWALL, lb_firewall_check),
    (*INSTANCE_FIREWALL, instance_firewall_check),
    (*TLS_POLICY, tls_policy_check),
)
