"""The deployed stack's secrets, in moto's server: the values AWS generated appear nowhere the
stack shows itself, and deleting the stack leaves nothing behind, secrets included, but the
database's final snapshot (kept on purpose: test_emulator_data.py)."""

import base64
import json

import boto3
import pytest

from tests.template.emulator import Deployed, delete_emptied, deploy
from tests.template.test_secrets import looks_like_a_secret

pytestmark = pytest.mark.emulator


def test_generated_secrets_appear_nowhere_in_the_stack_its_parameters_or_outputs(
    live: Deployed, session: boto3.Session
) -> None:
    """Read the values AWS generated, then look for them everywhere the stack shows itself."""
    sm = session.client("secretsmanager")
    key = sm.get_secret_value(SecretId=live.outputs["SecretKeyArn"])["SecretString"]
    assert len(key) == 64 and "," not in key
    assert looks_like_a_secret(key), "the scanner of tests/template/test_secrets.py sees it"
    values = [key]
    if "DatabaseInstanceId" in live.outputs:
        (db,) = session.client("rds").describe_db_instances(
            DBInstanceIdentifier=live.outputs["DatabaseInstanceId"]
        )["DBInstances"]
        credentials = sm.get_secret_value(SecretId=db["MasterUserSecret"]["SecretArn"])
        values.append(json.loads(credentials["SecretString"])["password"])
    cfn = session.client("cloudformation")
    stack = cfn.describe_stacks(StackName=live.name)["Stacks"][0]
    shown = [
        json.dumps(cfn.get_template(StackName=live.name)["TemplateBody"]),
        json.dumps(stack.get("Parameters", []), default=str),
        json.dumps(stack.get("Outputs", []), default=str),
        json.dumps(cfn.list_stack_resources(StackName=live.name), default=str),
        json.dumps(cfn.describe_stack_events(StackName=live.name), default=str),
        user_data_of(live, session),
        json.dumps(
            session.client("codebuild").batch_get_projects(
                names=[live.outputs["BuildProjectName"]]
            )["projects"][0]["environment"]
        ),
        json.dumps(
            session.client("ssm").get_parameters_by_path(Path=f"/cloudsite/{live.name}/"),
            default=str,
        ),
    ]
    for value in values:
        for place in shown:
            assert value not in place


def user_data_of(live: Deployed, session: boto3.Session) -> str:
    (group,) = session.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[live.outputs["AutoScalingGroupName"]]
    )["AutoScalingGroups"]
    (version,) = session.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=group["LaunchTemplate"]["LaunchTemplateId"]
    )["LaunchTemplateVersions"]
    return base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()


def test_deleting_the_emptied_stack_leaves_nothing_behind(session: boto3.Session) -> None:
    name = "gone"
    live = deploy(session, name=name, EnableDatabase="true", DeletionProtection="false")
    (db,) = session.client("rds").describe_db_instances(
        DBInstanceIdentifier=live.outputs["DatabaseInstanceId"]
    )["DBInstances"]
    database_secret = db["MasterUserSecret"]["SecretArn"]
    session.client("secretsmanager").describe_secret(SecretId=database_secret)  # it exists
    assert delete_emptied(session, live) == []
    client = session.client
    assert not [b for b in client("s3").list_buckets()["Buckets"] if b["Name"].startswith(name)]
    arns = [g["TargetGroupArn"] for g in client("elbv2").describe_target_groups()["TargetGroups"]]
    assert live.outputs["TargetGroupArn"] not in arns
    assert not client("logs").describe_log_groups(logGroupNamePrefix=f"/cloudsite/{name}/")[
        "logGroups"
    ]
    assert not [r for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith(name)]
    assert not client("rds").describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": [live.outputs["DatabaseInstanceId"]]}]
    )["DBInstances"]
    # What DeletionPolicy Snapshot keeps, and only that: one manual snapshot, no automated one.
    snapshots = client("rds").describe_db_snapshots(
        DBInstanceIdentifier=live.outputs["DatabaseInstanceId"]
    )["DBSnapshots"]
    assert [s["SnapshotType"] for s in snapshots] == ["manual"]
    assert not client("ssm").get_parameters_by_path(Path=f"/cloudsite/{name}/")["Parameters"]
    # Both secrets: the Django key (the stack's) and the database's (RDS deletes it with the
    # database). Gone for good, not waiting out a recovery window.
    secrets = client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert not {live.outputs["SecretKeyArn"], database_secret} & {s["ARN"] for s in secrets}
    assert not [
        p
        for p in client("codepipeline").list_pipelines()["pipelines"]
        if p["name"] == live.outputs["PipelineName"]
    ]
    groups = client("ec2").describe_security_groups(
        Filters=[{"Name": "group-id", "Values": [live.outputs["InstanceSecurityGroupId"]]}]
    )["SecurityGroups"]
    assert groups == []
