"""The stack deployed to moto's server, with the database off and on: it reaches
CREATE_COMPLETE, moto makes every resource (no warning), and the live resources read back
through the AWS APIs are what the template promises. (The deploys are fixtures of conftest.py,
shared with test_emulator_secrets.py.)"""

import base64
import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from moto.codedeploy.models import codedeploy_backends

from tests.template.cfn import render
from tests.template.emulator import Deployed, created_resources

pytestmark = pytest.mark.emulator
# moto's own models for these types keep no physical id (a Ref to them yields the object).
MOTO_KEEPS_NO_ID = {
    "AWS::EC2::SecurityGroupIngress",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBParameterGroup",
}


def test_stack_reaches_create_complete(live: Deployed) -> None:
    assert live.status == "CREATE_COMPLETE"


def test_moto_warns_about_nothing(live: Deployed) -> None:
    assert live.warnings == []


def test_moto_creates_every_resource_the_parameters_call_for(
    live: Deployed, session: boto3.Session, template: dict
) -> None:
    expected = render(template, live.parameters).resources
    made = created_resources(session, live.name)
    assert set(made) == set(expected)
    for logical_id, summary in made.items():
        assert summary["ResourceType"] == expected[logical_id]["Type"]
        if summary["ResourceType"] not in MOTO_KEEPS_NO_ID:
            assert summary["PhysicalResourceId"], logical_id


def rules(permissions: Sequence[Any]) -> set[tuple[Any, ...]]:
    found = set()
    for p in permissions:
        ports = (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"))
        found |= {(*ports, r["CidrIp"]) for r in p.get("IpRanges", [])}
        found |= {(*ports, g["GroupId"]) for g in p.get("UserIdGroupPairs", [])}
    return found


def test_security_groups_admit_and_emit_only_what_the_template_says(
    live: Deployed, session: boto3.Session
) -> None:
    ec2 = session.client("ec2")
    lb_sg, web_sg = (
        live.outputs["LoadBalancerSecurityGroupId"],
        live.outputs["InstanceSecurityGroupId"],
    )
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(GroupIds=[lb_sg, web_sg])["SecurityGroups"]
    }
    assert rules(groups[lb_sg]["IpPermissions"]) == {
        ("tcp", 443, 443, "0.0.0.0/0"),
        ("tcp", 80, 80, "0.0.0.0/0"),
    }
    assert ("tcp", 8000, 8000, web_sg) in rules(groups[lb_sg]["IpPermissionsEgress"])
    assert not any(
        r[3] == "0.0.0.0/0" and r[0] != "icmp" for r in rules(groups[lb_sg]["IpPermissionsEgress"])
    )
    assert rules(groups[web_sg]["IpPermissions"]) == {("tcp", 8000, 8000, lb_sg)}
    egress = rules(groups[web_sg]["IpPermissionsEgress"])
    assert ("tcp", 443, 443, "0.0.0.0/0") in egress
    assert ("-1", None, None, "0.0.0.0/0") not in egress


def test_default_security_group_of_the_vpc_has_no_rules(
    live: Deployed, session: boto3.Session
) -> None:
    ec2 = session.client("ec2")
    vpc = ec2.describe_security_groups(GroupIds=[live.outputs["InstanceSecurityGroupId"]])[
        "SecurityGroups"
    ][0]["VpcId"]
    (default,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert (default["IpPermissions"], default["IpPermissionsEgress"]) == ([], [])


def test_listeners_serve_tls_with_the_modern_policy_and_redirect_http(
    live: Deployed, session: boto3.Session
) -> None:
    elb = session.client("elbv2")
    listeners = {
        listener["Port"]: listener
        for listener in elb.describe_listeners(LoadBalancerArn=live.outputs["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert https["Certificates"][0]["CertificateArn"] == live.parameters["CertificateArn"]
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"


def test_load_balancer_and_target_group_attributes_are_applied(
    live: Deployed, session: boto3.Session
) -> None:
    elb = session.client("elbv2")
    lb = {
        a["Key"]: a["Value"]
        for a in elb.describe_load_balancer_attributes(
            LoadBalancerArn=live.outputs["LoadBalancerArn"]
        )["Attributes"]
    }
    assert lb["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert lb["routing.http.desync_mitigation_mode"] == "strictest"
    assert lb["deletion_protection.enabled"] == "true"
    assert lb["access_logs.s3.bucket"] == live.outputs["AccessLogBucketName"]
    tg_arn = live.outputs["TargetGroupArn"]
    tg = {
        a["Key"]: a["Value"]
        for a in elb.describe_target_group_attributes(TargetGroupArn=tg_arn)["Attributes"]
    }
    assert int(tg["deregistration_delay.timeout_seconds"]) <= 60
    (group,) = elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"]
    assert (
        group["HealthCheckPath"],
        group["HealthCheckIntervalSeconds"],
        group["Matcher"]["HttpCode"],
    ) == ("/healthz", 10, "200")


def test_auto_scaling_group_uses_elb_health_checks_across_two_zones(
    live: Deployed, session: boto3.Session
) -> None:
    autoscaling = session.client("autoscaling")
    (group,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[live.outputs["AutoScalingGroupName"]]
    )["AutoScalingGroups"]
    assert group["HealthCheckType"] == "ELB"
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (2, 4, 2)
    assert group["TargetGroupARNs"] == [live.outputs["TargetGroupArn"]]
    assert len(set(group["AvailabilityZones"])) == 2
    assert len(group["Instances"]) == 2
    policies = autoscaling.describe_policies(AutoScalingGroupName=group["AutoScalingGroupName"])[
        "ScalingPolicies"
    ]
    tracked = {
        p["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]: p
        for p in policies
    }
    assert {p["PolicyType"] for p in policies} == {"TargetTrackingScaling"}
    assert set(tracked) == {"ASGAverageCPUUtilization", "ALBRequestCountPerTarget"}
    assert tracked["ASGAverageCPUUtilization"]["TargetTrackingConfiguration"]["TargetValue"] == 50
    requests = tracked["ALBRequestCountPerTarget"]["TargetTrackingConfiguration"]
    assert requests["TargetValue"] == 3000
    # The label resolved to this stack's load balancer and target group.
    label = requests["PredefinedMetricSpecification"]["ResourceLabel"]
    load_balancer = live.outputs["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    target_group = live.outputs["TargetGroupArn"].rsplit(":", 1)[1]
    assert label == f"{load_balancer}/{target_group}"


def test_launch_template_requires_imdsv2_and_carries_the_bootstrap(
    live: Deployed, session: boto3.Session
) -> None:
    ec2 = session.client("ec2")
    autoscaling = session.client("autoscaling")
    (group,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[live.outputs["AutoScalingGroupName"]]
    )["AutoScalingGroups"]
    template_id = group["LaunchTemplate"]["LaunchTemplateId"]
    (version,) = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)[
        "LaunchTemplateVersions"
    ]
    data = version["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    user_data = base64.b64decode(data["UserData"]).decode()
    assert f"stack='{live.name}'" in user_data
    assert f"app_log_group='/cloudsite/{live.name}/app'" in user_data
    assert "${" not in user_data.replace("${!", "")
    secret_arn = live.outputs["SecretKeyArn"]
    assert f"secret_key_arn='{secret_arn}'" in user_data


def test_instance_role_reaches_only_its_own_resources(
    live: Deployed, session: boto3.Session
) -> None:
    iam = session.client("iam")
    roles = [
        r
        for r in iam.list_roles()["Roles"]
        if r["RoleName"].startswith(f"{live.name}-InstanceRole")
    ]
    (role,) = roles
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]
    (policy_name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    answer: Any = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)
    document = answer["PolicyDocument"]  # boto3 decodes the JSON document
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert (
        statements["ReadDeployBundles"]["Resource"]
        == f"arn:aws:s3:::{live.outputs['ArtifactBucketName']}/*/Bundle/*"
    )
    assert statements["EcrLogin"]["Resource"] == "*"
    stars = [sid for sid, s in statements.items() if s.get("Resource") == "*"]
    assert stars == ["EcrLogin", "SeeOwnReadiness"]
    deny = statements["NoOtherSettings"]  # what AmazonSSMManagedInstanceCore allows, taken back
    assert (deny["Effect"], "Resource" in deny) == ("Deny", False)
    assert deny["NotResource"] == statements["ReadOwnSettings"]["Resource"]
    assert all(f"parameter/cloudsite/{live.name}" in arn for arn in deny["NotResource"])
    secrets = statements["ReadOwnSecrets"]["Resource"]
    secrets = secrets if isinstance(secrets, list) else [secrets]
    expected = [live.outputs["SecretKeyArn"]]
    if "DatabaseInstanceId" in live.outputs:
        (db,) = session.client("rds").describe_db_instances(
            DBInstanceIdentifier=live.outputs["DatabaseInstanceId"]
        )["DBInstances"]
        expected.append(db["MasterUserSecret"]["SecretArn"])
    assert secrets == expected  # exactly the stack's two secrets, by their real ARNs


def test_source_bucket_is_versioned_tls_only_and_takes_the_cli_upload(
    live: Deployed, session: boto3.Session
) -> None:
    s3 = session.client("s3")
    bucket = live.outputs["SourceBucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert set(block.values()) == {True}
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {"Bool": {"aws:SecureTransport": "false"}} in [
        s.get("Condition") for s in policy["Statement"]
    ]
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    put = s3.put_object(Bucket=bucket, Key="source/source.zip", Body=b"zip")
    assert put["VersionId"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_repository_scans_and_keeps_tags_immutable(live: Deployed, session: boto3.Session) -> None:
    ecr = session.client("ecr")
    name = live.outputs["EcrRepositoryName"]
    (repo,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert (
        "imageCountMoreThan" in ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    )


def test_pipeline_build_and_deploy_are_wired_as_the_template_says(
    live: Deployed, session: boto3.Session
) -> None:
    pipeline = session.client("codepipeline").get_pipeline(name=live.outputs["PipelineName"])[
        "pipeline"
    ]
    assert [s["name"] for s in pipeline["stages"]] == ["Source", "Build", "Deploy"]
    source = pipeline["stages"][0]["actions"][0]["configuration"]
    assert source == {
        "S3Bucket": live.outputs["SourceBucketName"],
        "S3ObjectKey": "source/source.zip",
        "PollForSourceChanges": "false",
    }
    (project,) = session.client("codebuild").batch_get_projects(
        names=[live.outputs["BuildProjectName"]]
    )["projects"]
    assert project["source"]["buildspec"] == ".cloudsite/runtime/buildspec.yml"
    assert project["environment"]["privilegedMode"] is True
    codedeploy = session.client("codedeploy")
    group = codedeploy.get_deployment_group(
        applicationName=live.outputs["CodeDeployApplicationName"],
        deploymentGroupName=live.outputs["DeploymentGroupName"],
    )["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert group["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert group["autoRollbackConfiguration"]["enabled"] is True
    groups = [g["name"] for g in group["autoScalingGroups"]]
    assert groups == [live.outputs["AutoScalingGroupName"]]
    # moto's API answers alarmConfiguration with {} (a TODO in moto); its backend holds it.
    stored = codedeploy_backends["123456789012"]["us-east-1"].get_deployment_group(
        live.outputs["CodeDeployApplicationName"], live.outputs["DeploymentGroupName"]
    )
    configuration: Any = stored.alarm_configuration
    names = {alarm["name"] for alarm in configuration["alarms"]}
    assert names == {f"{live.name}-target-5xx", f"{live.name}-p99-latency"}


def test_alarms_and_log_groups_exist_with_retention(live: Deployed, session: boto3.Session) -> None:
    alarms = session.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{live.name}-")[
        "MetricAlarms"
    ]
    assert {a["MetricName"] for a in alarms} == {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "UnHealthyHostCount",
        "TargetResponseTime",
    }
    for alarm in alarms:
        assert alarm["AlarmActions"] == [live.outputs["AlarmTopicArn"]]
        assert alarm["Dimensions"][0]["Value"].startswith("app/")
    groups = session.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/cloudsite/{live.name}/"
    )["logGroups"]
    assert {g["logGroupName"].rsplit("/", 1)[1] for g in groups} >= {
        "app",
        "build",
        "deploy",
        "bootstrap",
    }
    assert {g["retentionInDays"] for g in groups} == {365}


def test_instances_find_their_settings_under_the_parameter_path(
    live: Deployed, session: boto3.Session
) -> None:
    ssm = session.client("ssm")
    found = ssm.get_parameters_by_path(Path=f"/cloudsite/{live.name}/")["Parameters"]
    values = {p["Name"].rsplit("/", 1)[1]: p["Value"] for p in found}
    assert values["DJANGO_ALLOWED_HOSTS"] == live.outputs["LoadBalancerDnsName"]
    assert values["DJANGO_CSRF_TRUSTED_ORIGINS"] == live.outputs["SiteUrl"]
    database = "DatabaseInstanceId" in live.outputs
    assert {"DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME"} <= set(values) or not database
    if database:
        assert values["DATABASE_PORT"] == "5432"


def test_database_is_private_encrypted_and_its_password_is_managed(
    deployed: dict[str, Deployed], session: boto3.Session
) -> None:
    live = deployed["sitedb"]
    rds = session.client("rds")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier=live.outputs["DatabaseInstanceId"])[
        "DBInstances"
    ]
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["Endpoint"]["Port"] == 5432
    assert db["MasterUserSecret"]["SecretArn"].startswith("arn:aws:secretsmanager:")
    assert db["VpcSecurityGroups"], "the database sits in its own security group"
    assert "DatabaseInstanceId" not in deployed["site"].outputs
