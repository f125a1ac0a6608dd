"""Data that outlives the stack: the media bucket (kept, private, TLS-only), the site role that
alone may use it, the S3 gateway endpoint, and the database restored from a kept snapshot.
(The same in moto's server: test_emulator_data.py.)"""

import re
from typing import Any

import pytest

from cloudsite.conditions import evaluate
from cloudsite.outputs import DATA_TAG, STACK_TAG
from tests.template.cfn import Json, Rendered, as_list, parameter_values, policy_statements, render
from tests.template.conftest import SCENARIOS

# The bucket's ARN and its objects' ARN, as rendered: the stack's own bucket ("media") or the
# one it was given ("kept-data").
ARNS = {
    "media": ({"Fn::GetAtt": ["MediaBucket", "Arn"]}, {"Fn::Sub": "${MediaBucket.Arn}/*"}),
    "kept-data": (
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucketName}"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucketName}/*"},
    ),
}
# What RDS refuses beside DBSnapshotIdentifier (the AWS::RDS::DBInstance reference, property
# DBSnapshotIdentifier): a restore takes them from the snapshot. StorageEncrypted is refused
# only for an unencrypted snapshot, and a `down` snapshot is of an encrypted database.
NOT_WITH_A_SNAPSHOT = {
    "CharacterSetName",
    "DBClusterIdentifier",
    "DBName",
    "KmsKeyId",
    "MasterUsername",
    "MasterUserPassword",
    "PromotionTier",
    "SourceDBInstanceIdentifier",
    "SourceRegion",
    "Timezone",
}


@pytest.fixture(scope="module")
def media(template: Json) -> Rendered:
    return render(template, SCENARIOS["media"])


@pytest.fixture(scope="module")
def kept(template: Json) -> Rendered:
    return render(template, SCENARIOS["kept-data"])


def rule_holds(template: Json, name: str, overrides: dict[str, str]) -> bool:
    """One of the template's Rules, decided for these parameters as CloudFormation would."""
    rule = template["Rules"][name]
    values = parameter_values(template, overrides)

    def holds(node: Any) -> bool:
        return bool(evaluate(node, values, template, lambda n: None))

    if not holds(rule["RuleCondition"]):
        return True
    return all(holds(assertion["Assert"]) for assertion in rule["Assertions"])


@pytest.mark.parametrize(
    ("rule", "overrides", "holds"),
    [
        ("MediaBucketNeedsMedia", {"MediaBucketName": "site-media"}, False),
        ("MediaBucketNeedsMedia", {"MediaBucketName": "site-media", "EnableMedia": "true"}, True),
        ("MediaBucketNeedsMedia", {}, True),
        ("DatabaseSnapshotNeedsDatabase", {"DatabaseSnapshot": "site-snap"}, False),
        (
            "DatabaseSnapshotNeedsDatabase",
            {"DatabaseSnapshot": "site-snap", "EnableDatabase": "true"},
            True,
        ),
        ("DatabaseSnapshotNeedsDatabase", {}, True),
    ],
)
def test_kept_data_is_refused_without_what_uses_it(
    template: Json, rule: str, overrides: dict[str, str], holds: bool
) -> None:
    assert rule_holds(template, rule, overrides) is holds


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("site-snapshot-database-0123456789ab", True),
        ("arn:aws:rds:eu-west-1:123456789012:snapshot:site-snapshot-database-0a1b", True),
        ("arn:aws-cn:rds:cn-north-1:123456789012:snapshot:s1", True),
        ("0site", False),  # must start with a letter
        ("site--snap", False),
        ("site-snap-", False),
        ("rds:site-2026-12-07-08-00", False),  # automated snapshots go with their database
        ("arn:aws:rds:eu-west-1:123456789012:db:site", False),  # a database, not a snapshot
        ("s" * 321, False),
    ],
)
def test_database_snapshot_takes_a_snapshot_name_or_arn(
    template: Json, value: str, ok: bool
) -> None:
    spec = template["Parameters"]["DatabaseSnapshot"]
    fits = bool(re.fullmatch(spec["AllowedPattern"], value)) and len(value) <= spec["MaxLength"]
    assert fits is ok


def test_database_snapshot_says_to_keep_the_same_value(template: Json) -> None:
    description = template["Parameters"]["DatabaseSnapshot"]["Description"]
    assert "Keep the same value on every later update" in description
    assert "new, empty one" in description


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("site-mediabucket-0abc1def2ghi", True), ("Site", False), ("a", False)],
)
def test_media_bucket_name_takes_a_bucket_name(template: Json, value: str, ok: bool) -> None:
    pattern = template["Parameters"]["MediaBucketName"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_without_media_there_is_no_bucket_role_or_output(stack: Rendered) -> None:
    media_parts = {"MediaBucket", "MediaBucketPolicy", "SiteRole", "InstanceAssumesSiteRole"}
    assert media_parts.isdisjoint(stack.resources)
    assert {"MediaBucketName", "SiteRoleArn"}.isdisjoint(stack.outputs)


def test_media_bucket_is_private_encrypted_versioned_and_logged(media: Rendered) -> None:
    props = media.props("MediaBucket")
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
        "BucketKeyEnabled": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "ExpirationInDays" not in lifecycle  # the current uploads stay for good
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "s3/media/",
    }


def test_media_bucket_carries_the_two_tags_the_cli_finds_it_by(media: Rendered) -> None:
    tags = {t["Key"]: t["Value"] for t in media.props("MediaBucket")["Tags"]}
    assert tags == {STACK_TAG: {"Ref": "AWS::StackName"}, DATA_TAG: "media"}


def test_the_access_log_bucket_takes_the_media_buckets_logs_only_when_it_exists(
    media: Rendered, kept: Rendered
) -> None:
    def delivery(stack: Rendered) -> list[Json]:
        statements = stack.props("AccessLogBucketPolicy")["PolicyDocument"]["Statement"]
        return [s for s in statements if s.get("Sid") == "MediaBucketAccessLogDelivery"]

    (statement,) = delivery(media)
    assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Sub": "${AccessLogBucket.Arn}/s3/media/*"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert delivery(kept) == []  # a given bucket is not this stack's to log


def test_media_bucket_and_its_policy_outlive_the_stack(template: Json) -> None:
    for logical_id in ("MediaBucket", "MediaBucketPolicy"):
        resource = template["Resources"][logical_id]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


@pytest.mark.parametrize(
    ("scenario", "bucket"),
    [("media", {"Ref": "MediaBucket"}), ("kept-data", {"Ref": "MediaBucketName"})],
)
def test_media_bucket_policy_refuses_plain_http_and_old_tls_on_the_bucket_in_use(
    template: Json, scenario: str, bucket: Json
) -> None:
    stack = render(template, SCENARIOS[scenario])
    policy = stack.props("MediaBucketPolicy")
    assert policy["Bucket"] == bucket
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"DenyInsecureTransport", "DenyOldTls"}
    conditions = {
        "DenyInsecureTransport": {"Bool": {"aws:SecureTransport": "false"}},
        "DenyOldTls": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }
    for sid, statement in statements.items():
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
            "Deny",
            {"AWS": "*"},
            "s3:*",
        )
        assert statement["Resource"] == list(ARNS[scenario])
        assert statement["Condition"] == conditions[sid]


def test_with_a_kept_bucket_the_stack_creates_none(kept: Rendered) -> None:
    assert "MediaBucket" not in kept.resources
    assert kept.outputs["MediaBucketName"]["Value"] == {"Ref": "MediaBucketName"}
    assert kept.conditions["MediaBucketGiven"] and not kept.conditions["CreateMediaBucket"]


@pytest.mark.parametrize("scenario", ["media", "kept-data"])
def test_site_role_reaches_exactly_the_media_bucket(template: Json, scenario: str) -> None:
    stack = render(template, SCENARIOS[scenario])
    bucket_arn, objects_arn = ARNS[scenario]
    statements = [s for role, s in policy_statements(stack) if role == "SiteRole"]
    granted = {
        action: statement["Resource"]
        for statement in statements
        for action in as_list(statement["Action"])
    }
    assert {s["Effect"] for s in statements} == {"Allow"}
    assert granted == {
        "s3:GetObject": objects_arn,
        "s3:PutObject": objects_arn,
        "s3:DeleteObject": objects_arn,
        "s3:AbortMultipartUpload": objects_arn,
        # django-storages' exists() lists: without it a missing file is a 403, not a 404.
        "s3:ListBucket": bucket_arn,
    }
    assert all("Condition" not in s and "NotResource" not in s for s in statements)
    assert stack.props("SiteRole").get("ManagedPolicyArns", []) == []


def test_site_role_is_trusted_by_the_instance_role_only_for_an_hour(media: Rendered) -> None:
    props = media.props("SiteRole")
    (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::GetAtt": ["InstanceRole", "Arn"]}},
        "Action": "sts:AssumeRole",
    }
    assert props["MaxSessionDuration"] == 3600


def mentions_the_media_bucket(node: Any) -> bool:
    text = str(node)
    return "MediaBucket" in text  # MediaBucket, MediaBucket.Arn or MediaBucketName


@pytest.mark.parametrize("scenario", ["media", "kept-data"])
def test_no_other_role_touches_the_media_bucket(template: Json, scenario: str) -> None:
    stack = render(template, SCENARIOS[scenario])
    for role, statement in policy_statements(stack):
        if role == "SiteRole":
            continue
        s3_actions = [a for a in as_list(statement["Action"]) if str(a).startswith("s3:")]
        resources = as_list(statement.get("Resource", [])) + as_list(
            statement.get("NotResource", [])
        )
        assert not (s3_actions and any(mentions_the_media_bucket(r) for r in resources)), role
        # ...and nothing grants the media bucket by a wildcard: no role has s3 on "*".
        assert not (s3_actions and "*" in resources), role


def instance_statements(stack: Rendered) -> list[Json]:
    """Every statement the instance role gets: its own policy and those attached to it."""
    found = [s for role, s in policy_statements(stack) if role == "InstanceRole"]
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if {"Ref": "InstanceRole"} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


@pytest.mark.parametrize("scenario", ["default", "media", "kept-data"])
def test_the_instance_role_can_assume_the_site_role_and_no_other(
    template: Json, scenario: str
) -> None:
    stack = render(template, SCENARIOS[scenario])
    assumes = [s for s in instance_statements(stack) if "sts" in str(s["Action"])]
    if "SiteRole" not in stack.resources:
        assert assumes == []
        return
    (statement,) = assumes
    assert statement["Effect"] == "Allow"
    assert (statement["Action"], statement["Resource"]) == (
        "sts:AssumeRole",
        {"Fn::GetAtt": ["SiteRole", "Arn"]},
    )
    policy = stack.props("InstanceAssumesSiteRole")
    assert policy["Roles"] == [{"Ref": "InstanceRole"}]  # attached to the instances only


def test_site_role_outputs_name_the_role_and_the_bucket(media: Rendered) -> None:
    assert media.outputs["SiteRoleArn"]["Value"] == {"Fn::GetAtt": ["SiteRole", "Arn"]}
    assert media.outputs["MediaBucketName"]["Value"] == {"Ref": "MediaBucket"}
    # The site role serves the media bucket and the task queue (tests/template/test_background).
    assert media.template["Outputs"]["SiteRoleArn"]["Condition"] == "HasSiteRole"
    assert media.conditions["HasSiteRole"]
    assert media.template["Outputs"]["MediaBucketName"]["Condition"] == "HasMedia"


def test_s3_gateway_endpoint_serves_both_route_tables_with_the_default_policy(
    template: Json,
) -> None:
    stack = render(template, SCENARIOS["default"])
    props = stack.props("S3GatewayEndpoint")
    assert props["VpcEndpointType"] == "Gateway"
    assert props["VpcId"] == {"Ref": "Vpc"}
    assert props["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    assert props["RouteTableIds"] == [{"Ref": "PublicRouteTable"}, {"Ref": "PrivateRouteTable"}]
    # The instances also fetch from buckets AWS owns (ECR's layers, the CodeDeploy agent):
    # a narrower endpoint policy would have to name them, and AWS does not promise their names.
    assert "PolicyDocument" not in props
    existing = render(template, SCENARIOS["existing-vpc"])
    assert "S3GatewayEndpoint" not in existing.resources  # a VPC of the user's: theirs to route


def test_a_new_database_is_named_encrypted_and_owned_by_cloudsite(template: Json) -> None:
    props = render(template, SCENARIOS["database"]).props("Database")
    assert "DBSnapshotIdentifier" not in props
    assert (props["DBName"], props["MasterUsername"]) == ("cloudsite", "cloudsite")
    assert props["StorageEncrypted"] is True
    assert props["ManageMasterUserPassword"] is True


def test_a_restored_database_takes_the_snapshot_and_nothing_rds_refuses_beside_it(
    kept: Rendered,
) -> None:
    props = kept.props("Database")
    assert props["DBSnapshotIdentifier"] == {"Ref": "DatabaseSnapshot"}
    assert NOT_WITH_A_SNAPSHOT.isdisjoint(props)
    assert props["StorageEncrypted"] is True  # ignored by a restore: the snapshot's holds
    # CloudFormation turns password management on right after the restore (ModifyDBInstance):
    # the restored database gets a managed secret as a new one does.
    assert props["ManageMasterUserPassword"] is True
    database = kept.template["Resources"]["Database"]
    assert (database["DeletionPolicy"], database["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    # The settings the instances read name the database a `down` snapshotted.
    assert kept.props("DatabaseNameParameter")["Value"] == "cloudsite"


def test_a_snapshot_without_a_database_restores_nothing(template: Json) -> None:
    stack = render(template, {"DatabaseSnapshot": "site-snapshot-database-0123456789ab"})
    assert not stack.conditions["RestoreDatabase"]
    assert "Database" not in stack.resources
