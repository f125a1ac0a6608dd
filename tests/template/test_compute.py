"""Launch template, Auto Scaling group, and the database when it is on."""

import re

from cloudsite.outputs import Param
from tests.template.cfn import Json, Rendered, render
from tests.template.conftest import SCENARIOS

# Instance families built on AWS Nitro (x86_64): encrypted EBS, IMDSv2, ENA.
NITRO_FAMILIES = {"t3", "t3a", "m6i", "m7i", "c6i", "c7i"}


def minutes(duration: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration)
    assert match, duration
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def test_launch_template_requires_imdsv2_with_one_hop(stack: Rendered) -> None:
    options = stack.props("LaunchTemplate")["LaunchTemplateData"]["MetadataOptions"]
    assert options["HttpTokens"] == "required"
    assert options["HttpPutResponseHopLimit"] == 1
    assert options["HttpEndpoint"] == "enabled"


def test_root_volume_is_encrypted_gp3(stack: Rendered) -> None:
    (mapping,) = stack.props("LaunchTemplate")["LaunchTemplateData"]["BlockDeviceMappings"]
    assert mapping["Ebs"]["Encrypted"] is True
    assert mapping["Ebs"]["VolumeType"] == "gp3"


def test_instances_get_a_public_address_only_without_private_subnets(template: Json) -> None:
    def public_ip(overrides: dict[str, str]) -> bool:
        data = render(template, overrides).props("LaunchTemplate")["LaunchTemplateData"]
        return bool(data["NetworkInterfaces"][0]["AssociatePublicIpAddress"])

    assert public_ip(SCENARIOS["default"]) is True
    assert public_ip(SCENARIOS["private-subnets"]) is False


def test_instance_types_offered_are_all_nitro(template: Json) -> None:
    offered = template["Parameters"][Param.INSTANCE_TYPE]["AllowedValues"]
    assert {t.split(".")[0] for t in offered} <= NITRO_FAMILIES


def test_group_spans_two_zones_and_trusts_the_load_balancer_health_check(stack: Rendered) -> None:
    props = stack.props("AutoScalingGroup")
    assert props["HealthCheckType"] == "ELB"
    assert 0 < props["HealthCheckGracePeriod"] <= 900
    assert props["VPCZoneIdentifier"] == [{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}]
    assert props["TargetGroupARNs"] == [{"Ref": "TargetGroup"}]
    zones = [stack.props(s["Ref"])["AvailabilityZone"] for s in props["VPCZoneIdentifier"]]
    assert zones[0] != zones[1]


def test_private_subnets_put_instances_behind_one_nat_gateway(template: Json) -> None:
    stack = render(template, SCENARIOS["private-subnets"])
    props = stack.props("AutoScalingGroup")
    assert props["VPCZoneIdentifier"] == [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]
    assert list(stack.of_type("AWS::EC2::NatGateway")) == ["NatGateway"]
    assert stack.props("PrivateDefaultRoute")["NatGatewayId"] == {"Ref": "NatGateway"}
    assert "NatGateway" not in render(template, SCENARIOS["default"]).resources


def test_fleet_size_comes_from_parameters(stack: Rendered) -> None:
    props = stack.props("AutoScalingGroup")
    for prop, param in [
        ("MinSize", Param.MIN_SIZE),
        ("MaxSize", Param.MAX_SIZE),
        ("DesiredCapacity", Param.DESIRED_CAPACITY),
    ]:
        assert props[prop] == {"Ref": param}


def test_creation_and_updates_fail_in_minutes_not_hours(stack: Rendered) -> None:
    group = stack.resources["AutoScalingGroup"]
    signal = group["CreationPolicy"]["ResourceSignal"]
    assert signal["Count"] == {"Ref": Param.DESIRED_CAPACITY}
    assert minutes(signal["Timeout"]) <= 20
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True
    assert rolling["MaxBatchSize"] == 1
    assert minutes(rolling["PauseTime"]) <= 20


def test_existing_vpc_uses_the_given_subnets_and_creates_no_network(template: Json) -> None:
    stack = render(template, SCENARIOS["existing-vpc"])
    assert stack.of_type("AWS::EC2::VPC") == {}
    assert stack.props("LoadBalancer")["Subnets"] == {"Ref": Param.PUBLIC_SUBNET_IDS}
    assert stack.props("AutoScalingGroup")["VPCZoneIdentifier"] == {"Ref": Param.PUBLIC_SUBNET_IDS}
    assert stack.props("DatabaseSubnetGroup")["SubnetIds"] == {"Ref": Param.PRIVATE_SUBNET_IDS}
    assert stack.props("TargetGroup")["VpcId"] == {"Ref": Param.VPC_ID}


def test_database_is_private_encrypted_backed_up_and_password_managed(template: Json) -> None:
    props = render(template, SCENARIOS["database"]).props("Database")
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in props
    assert props["BackupRetentionPeriod"] >= 7
    assert props["CopyTagsToSnapshot"] is True
    assert props["DeletionProtection"] == {"Ref": Param.DELETION_PROTECTION}
    assert props["DBSubnetGroupName"] == {"Ref": "DatabaseSubnetGroup"}
    subnets = render(template, SCENARIOS["database"]).props("DatabaseSubnetGroup")["SubnetIds"]
    assert subnets == [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]


def test_database_requires_tls(template: Json) -> None:
    props = render(template, SCENARIOS["database"]).props("DatabaseParameterGroup")
    assert props["Parameters"]["rds.force_ssl"] == "1"


def test_database_is_absent_by_default(template: Json) -> None:
    stack = render(template, SCENARIOS["default"])
    assert [r for r in stack.resources.values() if r["Type"].startswith("AWS::RDS::")] == []
