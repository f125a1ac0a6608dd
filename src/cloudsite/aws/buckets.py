"""S3 buckets the CLI handles itself: the template bucket it owns, and emptying the stack's
versioned buckets before CloudFormation can delete them."""

import json
from typing import Any

from cloudsite.aws import error_code
from cloudsite.outputs import STACK_TAG

GONE = {"NoSuchBucket", "404", "NotFound"}


def bucket_url(bucket: str, *, region: str, key: str) -> str:
    """The virtual-hosted URL CloudFormation reads a TemplateURL from (China's regions have
    their own domain)."""
    domain = "amazonaws.com.cn" if partition(region) == "aws-cn" else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{domain}/{key}"


def bucket_ensure(s3: Any, bucket: str, *, region: str, stack: str) -> None:
    """Create the bucket if needed: private, encrypted, TLS-only, tagged with the stack, and
    expiring its objects (it only ever holds templates CloudFormation has already read)."""
    import botocore.exceptions

    args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**args)
    except botocore.exceptions.ClientError as err:
        if error_code(err) != "BucketAlreadyOwnedByYou":
            raise
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only(bucket, region=region)))
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 7}}
            ]
        },
    )
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": STACK_TAG, "Value": stack}]})


def partition(region: str) -> str:
    """The ARN partition a region belongs to (aws, aws-cn, aws-us-gov, ...), from botocore's
    endpoint data: no request. The region was validated against the same data."""
    import boto3

    return boto3.session.Session().get_partition_for_region(region)


def tls_only(bucket: str, *, region: str) -> dict[str, Any]:
    arn = f"arn:{partition(region)}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def bucket_exists(s3: Any, bucket: str) -> bool:
    """Whether the bucket exists and is ours (403: someone else's name, not ours to touch)."""
    import botocore.exceptions

    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in GONE or error_code(err) == "403":
            return False
        raise
    return True


def bucket_empty(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many were deleted.
    A bucket that does not exist is already empty."""
    import botocore.exceptions

    deleted = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            batch = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for kind in ("Versions", "DeleteMarkers")
                for item in page.get(kind, [])
            ]
            for start in range(0, len(batch), 1000):  # DeleteObjects takes 1000 at most
                chunk = batch[start : start + 1000]
                result = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
                if result.get("Errors"):
                    first = result["Errors"][0]
                    raise RuntimeError(f"{bucket}/{first['Key']}: {first['Message']}")
                deleted += len(chunk)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in GONE:
            return deleted
        raise
    return deleted


def bucket_delete(s3: Any, bucket: str) -> bool:
    """Empty and delete a bucket; False when it was already gone."""
    import botocore.exceptions

    bucket_empty(s3, bucket)
    try:
        s3.delete_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in GONE:
            return False
        raise
    return True
