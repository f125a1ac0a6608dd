"""The load balancer, its listeners and target group, and the security groups around them."""

from typing import Any

from cloudsite.outputs import Param
from tests.template.cfn import Json, Rendered, render
from tests.template.conftest import SCENARIOS

MODERN_TLS_POLICIES = {
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
}
EVERYONE = "0.0.0.0/0"


def attributes(props: Json, key: str) -> dict[str, Any]:
    return {a["Key"]: a["Value"] for a in props[key]}


def test_tls_policy_parameter_accepts_only_modern_policies(template: Json) -> None:
    spec = template["Parameters"][Param.TLS_POLICY]
    assert set(spec["AllowedValues"]) == MODERN_TLS_POLICIES
    assert spec["Default"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"


def test_https_listener_uses_the_policy_and_certificate_parameters(stack: Rendered) -> None:
    listener = stack.props("HttpsListener")
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert listener["SslPolicy"] == {"Ref": Param.TLS_POLICY}
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": Param.CERTIFICATE_ARN}}]
    assert listener["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}
    ]


def test_http_listener_only_redirects_to_https_with_301(stack: Rendered) -> None:
    listener = stack.props("HttpListener")
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    (action,) = listener["DefaultActions"]
    assert action["Type"] == "redirect"
    redirect = action["RedirectConfig"]
    assert (redirect["Protocol"], redirect["Port"], redirect["StatusCode"]) == (
        "HTTPS",
        "443",
        "HTTP_301",
    )


def test_load_balancer_is_an_explicit_application_load_balancer_in_two_zones(
    stack: Rendered,
) -> None:
    props = stack.props("LoadBalancer")
    assert props["Type"] == "application"
    assert props["Scheme"] == "internet-facing"
    assert props["Subnets"] == [{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}]


def test_load_balancer_drops_bad_headers_resists_desync_keeps_logs_and_resists_deletion(
    stack: Rendered,
) -> None:
    attrs = attributes(stack.props("LoadBalancer"), "LoadBalancerAttributes")
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["routing.http.desync_mitigation_mode"] == "strictest"
    assert attrs["deletion_protection.enabled"] == {"Ref": Param.DELETION_PROTECTION}
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}


def test_deletion_protection_is_on_unless_turned_off(template: Json) -> None:
    assert template["Parameters"][Param.DELETION_PROTECTION]["Default"] == "true"


def test_access_log_bucket_lets_elb_deliver_logs(stack: Rendered) -> None:
    statements = stack.props("AccessLogBucketPolicy")["PolicyDocument"]["Statement"]
    writers = {
        str(s["Principal"]): s["Resource"]
        for s in statements
        if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject"
    }
    alb_logs = {"Fn::Sub": "${AccessLogBucket.Arn}/alb/AWSLogs/${AWS::AccountId}/*"}
    assert writers[str({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"})] == alb_logs
    # us-east-1 opened before August 2022: its ELB account must be allowed too.
    legacy = {"AWS": {"Fn::FindInMap": ["ElbLogAccount", {"Ref": "AWS::Region"}, "Id"]}}
    assert writers[str(legacy)] == alb_logs
    assert stack.resources["LoadBalancer"]["DependsOn"] == "AccessLogBucketPolicy"


def test_target_group_health_check_matches_the_site_and_drains_quickly(stack: Rendered) -> None:
    props = stack.props("TargetGroup")
    assert props["HealthCheckPath"] == "/healthz"
    assert props["Matcher"] == {"HttpCode": "200"}
    assert props["HealthCheckIntervalSeconds"] == 10
    assert props["HealthCheckTimeoutSeconds"] <= 5
    assert props["HealthyThresholdCount"] == 2
    assert props["UnhealthyThresholdCount"] in (2, 3)
    delay = int(attributes(props, "TargetGroupAttributes")["deregistration_delay.timeout_seconds"])
    assert delay <= 60
    assert props["Port"] == {"Ref": Param.APP_PORT}


def ingress_rules(stack: Rendered) -> list[tuple[str, Json]]:
    """(group logical id, rule) for inline and standalone ingress rules."""
    rules = []
    for logical_id, group in stack.of_type("AWS::EC2::SecurityGroup").items():
        rules += [(logical_id, r) for r in group["Properties"].get("SecurityGroupIngress", [])]
    for rule in stack.of_type("AWS::EC2::SecurityGroupIngress").values():
        rules.append((rule["Properties"]["GroupId"]["Ref"], rule["Properties"]))
    return rules


def cidr(rule: Json, stack: Rendered) -> Any:
    """The CIDR a rule admits, with Selects over list parameters resolved."""
    value = rule.get("CidrIp")
    if isinstance(value, dict) and "Fn::Select" in value:
        index, source = value["Fn::Select"]
        return str(stack.params[source["Ref"]][index])
    return value


def test_only_the_load_balancer_admits_everyone_and_only_on_80_and_443(any_stack: Rendered) -> None:
    open_rules = [(g, r) for g, r in ingress_rules(any_stack) if cidr(r, any_stack) == EVERYONE]
    for group, rule in open_rules:
        assert group == "LoadBalancerSecurityGroup"
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) in {
            ("tcp", 443, 443),
            ("tcp", 80, 80),
        }
    expected = 2 if any_stack.params[Param.ALLOWED_CLIENT_CIDRS] == [EVERYONE] else 0
    assert len(open_rules) == expected


def test_load_balancer_admits_each_allowed_client_cidr_on_both_ports(template: Json) -> None:
    stack = render(template, SCENARIOS["github-domain-ssh"])
    admitted = sorted(
        (cidr(r, stack), r["FromPort"])
        for g, r in ingress_rules(stack)
        if g == "LoadBalancerSecurityGroup"
    )
    assert admitted == [
        ("198.51.100.7/32", 80),
        ("198.51.100.7/32", 443),
        ("203.0.113.0/24", 80),
        ("203.0.113.0/24", 443),
    ]


def test_no_ssh_by_default_and_only_from_ssh_cidrs_when_given(
    template: Json, stack: Rendered
) -> None:
    assert [r for _, r in ingress_rules(stack) if r.get("FromPort") == 22] == []
    with_ssh = render(template, SCENARIOS["github-domain-ssh"])
    ssh = [(g, cidr(r, with_ssh)) for g, r in ingress_rules(with_ssh) if r.get("FromPort") == 22]
    assert ssh == [("InstanceSecurityGroup", "198.51.100.0/24")]


def test_ssh_parameter_refuses_everyone(template: Json) -> None:
    import re

    pattern = template["Parameters"][Param.SSH_CIDRS]["AllowedPattern"]
    assert re.fullmatch(pattern, "198.51.100.0/24")
    assert not re.fullmatch(pattern, EVERYONE)


def test_instances_admit_the_app_port_only_from_the_load_balancer(stack: Rendered) -> None:
    rules = [r for g, r in ingress_rules(stack) if g == "InstanceSecurityGroup"]
    assert rules == [stack.props("InstancesFromLoadBalancer")]
    assert rules[0]["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert rules[0]["FromPort"] == rules[0]["ToPort"] == {"Ref": Param.APP_PORT}


def test_egress_is_limited_to_what_each_tier_needs(stack: Rendered) -> None:
    placeholder = {
        "IpProtocol": "icmp",
        "FromPort": 252,
        "ToPort": 86,
        "CidrIp": "255.255.255.255/32",
    }
    groups = stack.of_type("AWS::EC2::SecurityGroup")
    for logical_id in ("LoadBalancerSecurityGroup", "DatabaseSecurityGroup"):
        if logical_id in groups:
            (inline,) = groups[logical_id]["Properties"]["SecurityGroupEgress"]
            assert {k: inline[k] for k in placeholder} == placeholder
    (instance_out,) = groups["InstanceSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert (instance_out["IpProtocol"], instance_out["FromPort"], instance_out["ToPort"]) == (
        "tcp",
        443,
        443,
    )
    extra = {k: v["Properties"] for k, v in stack.of_type("AWS::EC2::SecurityGroupEgress").items()}
    assert extra["LoadBalancerToInstances"]["DestinationSecurityGroupId"] == {
        "Ref": "InstanceSecurityGroup"
    }
    if "DatabaseSecurityGroup" in groups:
        assert extra["InstancesToDatabase"]["FromPort"] == 5432


def test_database_admits_postgres_only_from_the_instances(template: Json) -> None:
    stack = render(template, SCENARIOS["database"])
    rules = [r for g, r in ingress_rules(stack) if g == "DatabaseSecurityGroup"]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in rules] == [
        (5432, {"Ref": "InstanceSecurityGroup"})
    ]


def test_default_security_group_of_the_new_vpc_is_emptied(stack: Rendered) -> None:
    lockdown = stack.props("DefaultSecurityGroupLockdown")
    assert lockdown["SecurityGroupId"] == {"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]}
    assert lockdown["ServiceToken"] == {"Fn::GetAtt": ["LockdownFunction", "Arn"]}


def test_route53_alias_exists_only_with_a_hosted_zone(template: Json, stack: Rendered) -> None:
    assert "DnsRecord" not in stack.resources
    with_zone = render(template, SCENARIOS["github-domain-ssh"])
    record = with_zone.props("DnsRecord")
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    assert with_zone.outputs["SiteUrl"]["Value"] == {"Fn::Sub": "https://${DomainName}"}
