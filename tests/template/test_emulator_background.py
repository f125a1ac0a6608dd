"""The stack with background work switched on (the queue, Valkey, the schedules' group; the
database they need), deployed to moto's server: it reaches CREATE_COMPLETE with every resource
made and no warning, the live resources read back as the template promises, the AUTH token
moto generated appears nowhere the stack shows itself, and deleting the stack takes them all.
(moto_background_models teaches moto the types it would skip.)"""

import json
from typing import Any

import boto3
import pytest

from tests.template.cfn import render
from tests.template.conftest import SCENARIOS
from tests.template.emulator import Deployed, created_resources, delete_emptied, deploy
from tests.template.test_emulator import MOTO_KEEPS_NO_ID, rules
from tests.template.test_emulator_secrets import user_data_of

pytestmark = pytest.mark.emulator
NAME = "sitebg"


@pytest.fixture(scope="module")
def live(session: boto3.Session) -> Deployed:
    return deploy(session, name=NAME, **SCENARIOS["background"])


def test_the_stack_is_complete_and_moto_made_every_resource(
    live: Deployed, session: boto3.Session, template: dict
) -> None:
    assert (live.status, live.warnings) == ("CREATE_COMPLETE", [])
    expected = render(template, live.parameters).resources
    made = created_resources(session, NAME)
    assert set(made) == set(expected)
    for logical_id, summary in made.items():
        assert summary["ResourceType"] == expected[logical_id]["Type"]
        if summary["ResourceType"] not in MOTO_KEEPS_NO_ID:
            assert summary["PhysicalResourceId"], logical_id


def test_the_task_queue_reads_back_as_the_template_says(
    live: Deployed, session: boto3.Session
) -> None:
    sqs = session.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=live.outputs["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "1860"  # TaskTimeoutSeconds 1800 + 60
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "10"
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert attributes["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 5
    assert redrive["deadLetterTargetArn"].split(":")[-1].startswith(f"{NAME}-TaskDeadLetterQueue-")
    policy = json.loads(attributes["Policy"])
    (deny,) = policy["Statement"]
    assert (deny["Effect"], deny["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert attributes["QueueArn"] in deny["Resource"]
    dead = sqs.get_queue_url(QueueName=redrive["deadLetterTargetArn"].split(":")[-1])["QueueUrl"]
    assert (
        "Policy" in sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["Policy"])["Attributes"]
    )


def test_the_site_role_reaches_the_queue_it_is_given(
    live: Deployed, session: boto3.Session
) -> None:
    iam = session.client("iam")
    role = live.outputs["SiteRoleArn"].rsplit("/", 1)[1]
    answer: Any = iam.get_role_policy(RoleName=role, PolicyName="site")
    (statement,) = answer["PolicyDocument"]["Statement"]  # no media here: the queue only
    queue_arn = session.client("sqs").get_queue_attributes(
        QueueUrl=live.outputs["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert (statement["Sid"], statement["Resource"]) == ("TaskQueue", queue_arn)


def test_valkey_is_encrypted_authenticated_and_reached_from_the_instances_only(
    live: Deployed, session: boto3.Session
) -> None:
    (group,) = [
        g
        for g in session.client("elasticache").describe_replication_groups()["ReplicationGroups"]
        if g["ReplicationGroupId"].startswith(f"{NAME}-redis")
    ]
    assert group["Engine"] == "valkey"
    assert (group["TransitEncryptionEnabled"], group["AtRestEncryptionEnabled"]) == (True, True)
    assert group["AuthTokenEnabled"] is True
    assert (group["AutomaticFailover"], len(group["MemberClusters"])) == ("disabled", 1)
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    user_data = user_data_of(live, session)
    assert f"redis_address='{endpoint['Address']}:{endpoint['Port']}'" in user_data
    assert f"queue_url='{live.outputs['QueueUrl']}'" in user_data
    assert "task_broker='sqs'" in user_data and "task_timeout='1800'" in user_data
    ec2 = session.client("ec2")
    instances = live.outputs["InstanceSecurityGroupId"]
    (valkey,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "tag:Name", "Values": [f"{NAME}-valkey"]},
        ]
    )["SecurityGroups"]
    assert rules(valkey["IpPermissions"]) == {("tcp", 6379, 6379, instances)}
    (web,) = ec2.describe_security_groups(GroupIds=[instances])["SecurityGroups"]
    assert ("tcp", 6379, 6379, valkey["GroupId"]) in rules(web["IpPermissionsEgress"])


def test_the_auth_token_is_generated_and_shown_nowhere(
    live: Deployed, session: boto3.Session
) -> None:
    secrets = session.client("secretsmanager")
    (arn,) = [
        s["ARN"]
        for s in secrets.list_secrets()["SecretList"]
        if s["Name"].startswith(f"{NAME}-RedisAuthSecret-")
    ]
    token = secrets.get_secret_value(SecretId=arn)["SecretString"]
    assert len(token) == 64 and token.isalnum()  # the whole value, no JSON, no punctuation
    cfn = session.client("cloudformation")
    stack = cfn.describe_stacks(StackName=NAME)["Stacks"][0]
    shown = [
        json.dumps(cfn.get_template(StackName=NAME)["TemplateBody"]),
        json.dumps(stack, default=str),
        json.dumps(cfn.list_stack_resources(StackName=NAME), default=str),
        json.dumps(session.client("elasticache").describe_replication_groups(), default=str),
        user_data_of(live, session),
    ]
    assert all(token not in place for place in shown)
    assert f"redis_secret_arn='{arn}'" in user_data_of(live, session)


def test_the_schedule_group_role_and_document_are_there(
    live: Deployed, session: boto3.Session
) -> None:
    scheduler = session.client("scheduler")
    group = scheduler.get_schedule_group(Name=live.outputs["ScheduleGroupName"])
    assert group["Name"] == NAME
    tags = scheduler.list_tags_for_resource(ResourceArn=group["Arn"])["Tags"]
    assert {"Key": "cloudsite:stack", "Value": NAME} in tags
    document = session.client("ssm").get_document(Name=live.outputs["ScheduleDocumentName"])
    content = json.loads(document["Content"])
    assert list(content["parameters"]) == ["name", "scheduledTime", "arguments", "timeout"]
    role = live.outputs["SchedulerRoleArn"].rsplit("/", 1)[1]
    found: Any = session.client("iam").get_role(RoleName=role)  # boto3 decodes the document
    trust = found["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_deleting_the_stack_takes_the_queues_valkey_the_token_and_the_group(
    session: boto3.Session,
) -> None:
    name = "bggone"
    gone = deploy(session, name=name, **SCENARIOS["background"], DeletionProtection="false")
    assert delete_emptied(session, gone) == []
    queues = session.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert queues == []
    groups = session.client("elasticache").describe_replication_groups()["ReplicationGroups"]
    assert not [g for g in groups if g["ReplicationGroupId"].startswith(name)]
    names = [
        g["Name"] for g in session.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    ]
    assert name not in names
    secrets = session.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)
    assert not [s for s in secrets["SecretList"] if s["Name"].startswith(f"{name}-")]
