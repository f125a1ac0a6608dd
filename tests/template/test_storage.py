"""Buckets and the image repository."""

import json

import pytest

from tests.template.cfn import Json, Rendered

BUCKETS = ["AccessLogBucket", "SourceBucket", "ArtifactBucket"]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_is_private_encrypted_owner_enforced_and_versioned(
    stack: Rendered, bucket: str
) -> None:
    props = stack.props(bucket)
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("aws:kms", "AES256")
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_expires_old_versions(stack: Rendered, bucket: str) -> None:
    rules = stack.props(bucket)["LifecycleConfiguration"]["Rules"]
    assert any(r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r for r in rules)


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_policy_refuses_plain_http_and_old_tls(stack: Rendered, bucket: str) -> None:
    policy = stack.props(f"{bucket}Policy")
    assert policy["Bucket"] == {"Ref": bucket}
    denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    conditions = [d["Condition"] for d in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": "1.2"}} in conditions
    for deny in denies:
        assert deny["Principal"] == {"AWS": "*"} and deny["Action"] == "s3:*"


def test_source_and_artifact_buckets_log_access_to_the_log_bucket(stack: Rendered) -> None:
    for bucket in ("SourceBucket", "ArtifactBucket"):
        logging = stack.props(bucket)["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": "AccessLogBucket"}


def test_artifacts_stay_until_superseded_so_new_instances_can_deploy(stack: Rendered) -> None:
    for rule in stack.props("ArtifactBucket")["LifecycleConfiguration"]["Rules"]:
        assert "ExpirationInDays" not in rule


def test_source_bucket_exists_only_for_the_s3_source(template: Json) -> None:
    from tests.template.cfn import render
    from tests.template.conftest import SCENARIOS

    github = render(template, SCENARIOS["github-domain-ssh"])
    assert "SourceBucket" not in github.resources
    source = github.props("Pipeline")["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == {"Ref": "ConnectionArn"}


def test_repository_scans_on_push_keeps_tags_immutable_and_expires_old_images(
    stack: Rendered,
) -> None:
    props = stack.props("Repository")
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    (rule,) = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] >= 10
    assert rule["action"] == {"type": "expire"}
