"""The template bucket the CLI owns, in every partition (docs/security.md, finding 9)."""

import json

import boto3
import pytest

from cloudsite.aws import buckets


@pytest.mark.parametrize(
    ("region", "arn", "url"),
    [
        ("eu-west-1", "arn:aws:s3:::cstest-b", "https://cstest-b.s3.eu-west-1.amazonaws.com/k"),
        ("cn-north-1", "arn:aws-cn:s3:::cstest-b", "https://cstest-b.s3.cn-north-1.amazonaws.com.cn/k"),
        ("us-gov-west-1", "arn:aws-us-gov:s3:::cstest-b", "https://cstest-b.s3.us-gov-west-1.amazonaws.com/k"),
    ],
)  # fmt: skip
def test_the_tls_only_policy_names_the_bucket_in_its_region_s_partition(
    aws: str, region: str, arn: str, url: str
) -> None:
    s3 = boto3.client("s3", region_name=region, endpoint_url=aws)
    buckets.bucket_ensure(s3, "cstest-b", region=region, stack="cstest")
    (statement,) = json.loads(s3.get_bucket_policy(Bucket="cstest-b")["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [arn, f"{arn}/*"]
    assert buckets.bucket_url("cstest-b", region=region, key="k") == url
