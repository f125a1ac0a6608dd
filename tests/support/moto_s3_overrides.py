"""moto's S3 Bucket, completed (see moto_models): versioning, public access block, ownership,
lifecycle, logging, notifications and an encryption rule's BucketKeyEnabled are applied (moto
applies only the encryption algorithm and tags), and a bucket policy's conditions are evaluated
for a TLS client, as AWS does, instead of moto's "any condition means deny"."""

import json
from collections import OrderedDict
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.models import FakeBucket, s3_backends

from tests.support.moto_override_base import Json, Override, become

# What every request carries in the emulator's stand-in for AWS: boto3 always speaks TLS.
TLS_REQUEST = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def _condition_holds(condition: Json) -> bool:
    """True when a policy Condition block holds for TLS_REQUEST (unknown keys never hold)."""
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = TLS_REQUEST.get(key)
            if actual is None:
                return False
            if operator == "Bool" and actual.lower() != str(expected).lower():
                return False
            if operator == "NumericLessThan" and not float(actual) < float(expected):
                return False
            if operator == "StringEquals" and actual != expected:
                return False
    return True


class _TlsRequestBucket(FakeBucket):
    def get_permission(self, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = [
            {k: v for k, v in s.items() if k != "Condition"}
            for s in document["Statement"]
            if _condition_holds(s.get("Condition", {}))
        ]
        if not statements:
            return PermissionResult.NEUTRAL
        policy = IAMPolicy(json.dumps({**document, "Statement": statements}))
        return policy.is_action_permitted(action, resource)


def evaluate_policy_conditions(bucket: FakeBucket) -> None:
    """Make moto judge this bucket's policy statements by their conditions (see module doc)."""
    become(bucket, _TlsRequestBucket)


def _lifecycle_rule(rule: Json) -> Json:
    out: Json = {
        "ID": rule.get("Id", ""),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(days)}
    return out


def _bucket_key(backend: Any, name: str, encryption: Json) -> None:
    """Apply the rule again with BucketKeyEnabled, which moto's translation drops."""
    (rule,) = encryption["ServerSideEncryptionConfiguration"]
    if rule.get("BucketKeyEnabled"):
        api: Any = cfn_to_api_encryption(encryption)
        api["Rule"] = OrderedDict({**api["Rule"], "BucketKeyEnabled": "true"})
        backend.put_bucket_encryption(bucket_name=name, encryption=api)


def _apply_bucket_properties(backend: Any, name: str, props: Json) -> None:
    if "BucketEncryption" in props:
        _bucket_key(backend, name, props["BucketEncryption"])
    if "VersioningConfiguration" in props:
        backend.put_bucket_versioning(name, props["VersioningConfiguration"]["Status"])
    if "PublicAccessBlockConfiguration" in props:
        block = {k: str(v).lower() for k, v in props["PublicAccessBlockConfiguration"].items()}
        backend.put_public_access_block(name, block)
    if "OwnershipControls" in props:
        rule = props["OwnershipControls"]["Rules"][0]
        backend.put_bucket_ownership_controls(name, rule["ObjectOwnership"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
        backend.put_bucket_lifecycle(name, rules)
    if "LoggingConfiguration" in props:
        logging = props["LoggingConfiguration"]
        backend.put_bucket_logging(
            name,
            {
                "TargetBucket": logging["DestinationBucketName"],
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            },
        )
    notifications = props.get("NotificationConfiguration", {})
    if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        backend.put_bucket_notification_configuration(name, {"EventBridgeConfiguration": {}})


class Bucket(Override, CloudFormationModel):
    BASE = FakeBucket

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        backend = s3_backends[account_id]["aws"]
        _apply_bucket_properties(backend, bucket.name, cloudformation_json.get("Properties", {}))
        return bucket
