"""Data that outlives the stack, in moto's server: a stack with the media bucket and the
database, read back through the APIs; deleted, it leaves the bucket (with its files and its
TLS-only policy) and the database's final snapshot; a second stack of the same name, given
both, creates no bucket and restores its database from the snapshot."""

import json
import re
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from cloudsite.outputs import DATA_TAG, STACK_TAG
from tests.template.cfn import render
from tests.template.emulator import Deployed, created_resources, deploy, moto_warnings
from tests.template.test_emulator_secrets import user_data_of

pytestmark = pytest.mark.emulator
NAME = "keeps"
UPLOAD = "uploads/2026/12/photo.jpg"
# CloudFormation's name for the final snapshot of DeletionPolicy Snapshot (its RDS handler).
FINAL_SNAPSHOT = re.compile(rf"^{NAME}-snapshot-database-[0-9a-z]{{12}}$")
MEDIA = {"EnableMedia": "true", "EnableDatabase": "true", "DeletionProtection": "false"}


@dataclass
class Kept:
    """What the first stack left when it was deleted."""

    first: Deployed
    bucket: str
    snapshot: Any  # describe_db_snapshots' entry
    delete_warnings: list[str]
    database_secret: str  # the first database's managed secret (RDS deletes it with it)


@pytest.fixture(scope="module")
def first(session: boto3.Session) -> Deployed:
    live = deploy(session, name=NAME, **MEDIA)
    # A file the site uploaded: it must survive the stack.
    session.client("s3").put_object(
        Bucket=live.outputs["MediaBucketName"], Key=UPLOAD, Body=b"jpeg"
    )
    return live


@pytest.fixture(scope="module")
def kept(first: Deployed, session: boto3.Session) -> Kept:
    """Delete the first stack as `cloudsite down` does (its own buckets emptied first)."""
    rds = session.client("rds")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier=first.outputs["DatabaseInstanceId"])[
        "DBInstances"
    ]
    s3 = session.resource("s3")
    for key in ("SourceBucketName", "ArtifactBucketName", "AccessLogBucketName"):
        s3.Bucket(first.outputs[key]).object_versions.delete()
    with moto_warnings() as found:
        session.client("cloudformation").delete_stack(StackName=NAME)
    (snapshot,) = rds.describe_db_snapshots(
        DBInstanceIdentifier=first.outputs["DatabaseInstanceId"], SnapshotType="manual"
    )["DBSnapshots"]
    secret = db["MasterUserSecret"]["SecretArn"]
    return Kept(first, first.outputs["MediaBucketName"], snapshot, found, secret)


@pytest.fixture(scope="module")
def second(kept: Kept, session: boto3.Session) -> Deployed:
    """`cloudsite up` again: the same name, given what the first stack kept."""
    return deploy(
        session,
        name=NAME,
        **MEDIA,
        MediaBucketName=kept.bucket,
        DatabaseSnapshot=kept.snapshot["DBSnapshotIdentifier"],
    )


def role_named(session: boto3.Session, arn: str) -> Any:
    return session.client("iam").get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]


def inline_policies(session: boto3.Session, role_name: str) -> dict[str, Any]:
    iam = session.client("iam")
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return {
        n: iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"] for n in names
    }


def statements(document: Any) -> dict[str, Any]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_media_stack_is_built_whole_without_a_warning(
    first: Deployed, session: boto3.Session, template: dict
) -> None:
    assert (first.status, first.warnings) == ("CREATE_COMPLETE", [])
    made = created_resources(session, NAME)
    assert set(made) == set(render(template, first.parameters).resources)
    assert {"MediaBucket", "MediaBucketPolicy", "SiteRole", "InstanceAssumesSiteRole"} <= set(made)


def test_the_media_bucket_is_private_encrypted_versioned_logged_and_tagged(
    first: Deployed, session: boto3.Session
) -> None:
    s3 = session.client("s3")
    bucket = first.outputs["MediaBucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {k: True for k in block} and len(block) == 4
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging == {
        "TargetBucket": first.outputs["AccessLogBucketName"],
        "TargetPrefix": "s3/media/",
    }
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {STACK_TAG: NAME, DATA_TAG: "media"}
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"DenyInsecureTransport", "DenyOldTls"}


def test_the_site_role_is_the_instances_and_reaches_only_the_media_bucket(
    first: Deployed, session: boto3.Session
) -> None:
    bucket = first.outputs["MediaBucketName"]
    site = role_named(session, first.outputs["SiteRoleArn"])
    (trust,) = site["AssumeRolePolicyDocument"]["Statement"]
    (instance_role,) = [
        r
        for r in session.client("iam").list_roles()["Roles"]
        if r["RoleName"].startswith(f"{NAME}-InstanceRole")
    ]
    assert trust["Principal"] == {"AWS": instance_role["Arn"]}
    assert site["MaxSessionDuration"] == 3600
    (document,) = inline_policies(session, site["RoleName"]).values()
    granted = statements(document)
    assert granted["MediaObjects"]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert granted["ListMedia"]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert set(granted) == {"MediaObjects", "ListMedia"}
    # The instance role's policies: its own, and the one that lets it assume the site role.
    policies = inline_policies(session, instance_role["RoleName"])
    assert set(policies) == {"instance", "assume-site-role"}
    assume = statements(policies["assume-site-role"])["AssumeSiteRole"]
    assert (assume["Action"], assume["Resource"]) == ("sts:AssumeRole", site["Arn"])


def test_s3_goes_through_the_gateway_endpoint_from_both_route_tables(
    first: Deployed, session: boto3.Session
) -> None:
    ec2 = session.client("ec2")
    vpc = ec2.describe_security_groups(GroupIds=[first.outputs["InstanceSecurityGroupId"]])[
        "SecurityGroups"
    ][0]["VpcId"]
    (endpoint,) = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "VpcEndpoints"
    ]
    assert (endpoint["VpcEndpointType"], endpoint["ServiceName"]) == (
        "Gateway",
        "com.amazonaws.us-east-1.s3",
    )
    tables = ec2.describe_route_tables(RouteTableIds=endpoint["RouteTableIds"])["RouteTables"]
    assert len(tables) == 2
    for table in tables:  # each routes S3's prefix list to the endpoint
        targets = {r.get("GatewayId") for r in table["Routes"] if r.get("DestinationPrefixListId")}
        assert targets == {endpoint["VpcEndpointId"]}


def test_the_instances_learn_the_bucket_and_the_role(
    first: Deployed, session: boto3.Session
) -> None:
    user_data = user_data_of(first, session)
    assert f"media_bucket='{first.outputs['MediaBucketName']}'" in user_data
    assert f"site_role_arn='{first.outputs['SiteRoleArn']}'" in user_data


def test_deleting_the_stack_keeps_the_bucket_its_files_and_its_tls_only_policy(
    kept: Kept, session: boto3.Session
) -> None:
    assert kept.delete_warnings == []
    s3 = session.client("s3")
    assert s3.get_object(Bucket=kept.bucket, Key=UPLOAD)["Body"].read() == b"jpeg"
    policy = json.loads(s3.get_bucket_policy(Bucket=kept.bucket)["Policy"])
    conditions = [s["Condition"] for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=kept.bucket)["TagSet"]}
    assert tags == {STACK_TAG: NAME, DATA_TAG: "media"}
    # Everything else went: the other buckets, the roles, the endpoint, the database.
    left = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"{NAME}-")]
    assert left == [kept.bucket]
    roles = session.client("iam").list_roles()["Roles"]
    assert not [r for r in roles if r["RoleName"].startswith(f"{NAME}-")]
    assert not session.client("rds").describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": [kept.first.outputs["DatabaseInstanceId"]]}]
    )["DBInstances"]


def test_deleting_the_stack_takes_a_final_snapshot_with_the_stacks_tag(
    kept: Kept, session: boto3.Session
) -> None:
    snapshot = kept.snapshot
    assert FINAL_SNAPSHOT.match(snapshot["DBSnapshotIdentifier"]), snapshot["DBSnapshotIdentifier"]
    assert (snapshot["SnapshotType"], snapshot["Encrypted"]) == ("manual", True)
    tags = session.client("rds").list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])
    assert {t["Key"]: t["Value"] for t in tags["TagList"]} == {STACK_TAG: NAME}


def test_a_stack_given_the_kept_data_creates_no_bucket_and_restores_the_database(
    second: Deployed, kept: Kept, session: boto3.Session, template: dict
) -> None:
    assert (second.status, second.warnings) == ("CREATE_COMPLETE", [])
    made = created_resources(session, NAME)
    assert "MediaBucket" not in made
    assert set(made) == set(render(template, second.parameters).resources)
    assert second.outputs["MediaBucketName"] == kept.bucket
    rds = session.client("rds")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier=second.outputs["DatabaseInstanceId"])[
        "DBInstances"
    ]
    # The template gives a restore no name, administrator or encryption: these came from the
    # snapshot.
    assert (db["DBName"], db["MasterUsername"], db["StorageEncrypted"]) == (
        "cloudsite",
        "cloudsite",
        True,
    )
    assert db["DBSubnetGroup"]["DBSubnetGroupName"].startswith(f"{NAME}-")  # the new stack's
    assert {t["Key"]: t["Value"] for t in db["TagList"]} == {STACK_TAG: NAME}
    # A new managed secret (the first went with its database), readable, and the one the
    # instances are allowed to read.
    secret = db["MasterUserSecret"]["SecretArn"]
    assert secret != kept.database_secret
    value = json.loads(
        session.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    )
    assert set(value) == {"username", "password"}
    (instance_role,) = [
        r
        for r in session.client("iam").list_roles()["Roles"]
        if r["RoleName"].startswith(f"{NAME}-InstanceRole")
    ]
    policies = inline_policies(session, instance_role["RoleName"])
    reads = statements(policies["instance"])["ReadOwnSecrets"]["Resource"]
    assert secret in reads
    # The files the first stack's site uploaded are there for this one.
    s3 = session.client("s3")
    assert s3.get_object(Bucket=kept.bucket, Key=UPLOAD)["Body"].read() == b"jpeg"


def test_the_second_stacks_site_role_names_the_kept_bucket(
    second: Deployed, kept: Kept, session: boto3.Session
) -> None:
    site = role_named(session, second.outputs["SiteRoleArn"])
    (document,) = inline_policies(session, site["RoleName"]).values()
    granted = statements(document)
    assert granted["MediaObjects"]["Resource"] == f"arn:aws:s3:::{kept.bucket}/*"
    assert granted["ListMedia"]["Resource"] == f"arn:aws:s3:::{kept.bucket}"
    user_data = user_data_of(second, session)
    assert f"media_bucket='{kept.bucket}'" in user_data
    # Its policy is on the kept bucket (written over the first stack's, with the same rules).
    (resource,) = [
        r
        for r in session.client("cloudformation").list_stack_resources(StackName=NAME)[
            "StackResourceSummaries"
        ]
        if r["LogicalResourceId"] == "MediaBucketPolicy"
    ]
    assert resource["PhysicalResourceId"].startswith(kept.bucket)
