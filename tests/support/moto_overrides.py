"""Fixes to resource types moto's CloudFormation knows but only half-builds (see moto_models).

Each override delegates to moto's own model, then applies what moto drops, through the same
backend the APIs read:
- S3 Bucket: versioning, public access block, ownership, lifecycle, logging, notifications
  (moto applies only encryption and tags); a bucket policy's conditions are evaluated for a
  TLS client, as AWS does, instead of moto's "any condition means deny".
- SecurityGroup: an inline SecurityGroupEgress replaces the default allow-all rule, as in AWS.
- FlowLog: an S3 destination with a prefix (moto looks for a bucket named "bucket/prefix/").
- LoadBalancer and TargetGroup: their attributes are applied, and the GetAtt attributes
  CloudWatch needs (LoadBalancerFullName, TargetGroupFullName, ...) exist.
- ECR Repository: a generated name is lower case (as AWS makes it, and as ECR requires), the
  lifecycle policy is applied, and EmptyOnDelete deletes a repository that still has images.
- SSM Parameter: Tags is a key-value map in CloudFormation (moto expects a list).
- DBInstance: ManageMasterUserPassword, VPCSecurityGroups and the default PostgreSQL port,
  and GetAtt MasterUserSecret.SecretArn.
"""

import json
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.security_groups import SecurityGroup
from moto.ecr.models import Repository, ecr_backends
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup, elbv2_backends
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.rds.models import DBInstance, rds_backends
from moto.s3.models import FakeBucket, s3_backends
from moto.ssm.models import Parameter

Json = dict[str, Any]

# What every request carries in the emulator's stand-in for AWS: boto3 always speaks TLS.
TLS_REQUEST = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
# Route 53 zone of Application Load Balancers, for alias records (AWS publishes one a region).
ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}


def become(resource: Any, cls: type) -> None:
    """Give one of moto's resource objects the extra behaviour of a subclass (same layout), so
    the backend keeps serving the very object the stack created."""
    resource.__class__ = cls


def egress_rule(props: Json) -> Json:
    """An egress rule's CloudFormation properties as moto's authorize/revoke arguments."""
    cidr, group = props.get("CidrIp"), props.get("DestinationSecurityGroupId")
    return {
        "ip_protocol": str(props["IpProtocol"]),
        "from_port": props.get("FromPort"),
        "to_port": props.get("ToPort"),
        "ip_ranges": [{"CidrIp": cidr, "Description": props.get("Description", "")}]
        if cidr
        else [],
        "source_groups": [{"GroupId": group}] if group else [],
    }


def revoke_all_rules(ec2: Any, group_id: str, *, ingress: bool = True) -> None:
    """Revoke every egress rule of one group (and every ingress rule, unless told not to)."""
    group = ec2.get_security_group_from_id(group_id)
    if ingress and group.ingress_rules:
        ids = [r.id for r in group.ingress_rules]
        ec2.revoke_security_group_ingress(group_id, "-1", "", "", [], security_rule_ids=ids)
    if group.egress_rules:
        ids = [r.id for r in group.egress_rules]
        ec2.revoke_security_group_egress(group_id, "-1", "", "", [], security_rule_ids=ids)


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


def _apply_bucket_properties(backend: Any, name: str, props: Json) -> None:
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


class _Override:
    """Delegates registration and lifecycle to moto's model for the same type (BASE)."""

    BASE: Any = None

    @classmethod
    def cloudformation_type(cls) -> str:
        return str(cls.BASE.cloudformation_type())

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return str(cls.BASE.cloudformation_name_type())

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.BASE.update_from_cloudformation_json(*args, **kwargs)

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        cls.BASE.delete_from_cloudformation_json(*args, **kwargs)


class Bucket(_Override, CloudFormationModel):
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


class SecurityGroupWithEgress(_Override, CloudFormationModel):
    BASE = SecurityGroup

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SecurityGroup:
        group = SecurityGroup.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        rules = cloudformation_json["Properties"].get("SecurityGroupEgress")
        if rules is not None:
            ec2 = ec2_backends[account_id][region_name]
            revoke_all_rules(ec2, group.id, ingress=False)
            for rule in rules:
                ec2.authorize_security_group_egress(group_name_or_id=group.id, **egress_rule(rule))
        return group


class FlowLog(_Override, CloudFormationModel):
    BASE = FlowLogs

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FlowLogs:
        p = cloudformation_json["Properties"]
        destination = p.get("LogDestination")
        # moto validates the destination as a bucket name; AWS allows a prefix after it.
        bucket_arn: Any = destination.split("/")[0] if destination else None
        flows, errors = ec2_backends[account_id][region_name].create_flow_logs(
            p["ResourceType"],
            [p["ResourceId"]],
            p.get("TrafficType"),
            p.get("DeliverLogsPermissionArn"),
            p.get("LogDestinationType"),
            bucket_arn,
            p.get("LogGroupName"),
            p.get("LogFormat"),
            p.get("MaxAggregationInterval"),
        )
        if errors:
            raise ValueError(f"flow log not created: {errors}")
        flow = flows[0]
        flow.log_destination = destination
        for tag in p.get("Tags", []):
            flow.add_tag(tag["Key"], tag["Value"])
        return flow


class _LoadBalancer(FakeLoadBalancer):
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        if attribute_name == "CanonicalHostedZoneID":
            region = self.arn.split(":")[3]
            return ALB_HOSTED_ZONES.get(region, ALB_HOSTED_ZONES["us-east-1"])
        return super().get_cfn_attribute(attribute_name)


class LoadBalancer(_Override, CloudFormationModel):
    BASE = FakeLoadBalancer

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeLoadBalancer:
        balancer = FakeLoadBalancer.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        attributes = cloudformation_json["Properties"].get("LoadBalancerAttributes", [])
        if attributes:
            elbv2_backends[account_id][region_name].modify_load_balancer_attributes(
                balancer.arn, {a["Key"]: a["Value"] for a in attributes}
            )
        become(balancer, _LoadBalancer)
        return balancer


class _TargetGroup(FakeTargetGroup):
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        attributes = {
            "TargetGroupFullName": self.arn.split(":")[-1],
            "TargetGroupName": self.name,
            "TargetGroupArn": self.arn,
            "LoadBalancerArns": self.load_balancer_arns,
        }
        if attribute_name in attributes:
            return attributes[attribute_name]
        raise UnformattedGetAttTemplateException()


class TargetGroup(_Override, CloudFormationModel):
    BASE = FakeTargetGroup

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeTargetGroup:
        group = FakeTargetGroup.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        attributes = cloudformation_json["Properties"].get("TargetGroupAttributes", [])
        if attributes:
            elbv2_backends[account_id][region_name].modify_target_group_attributes(
                group.arn, {a["Key"]: a["Value"] for a in attributes}
            )
        become(group, _TargetGroup)
        return group


class _EmptyOnDeleteRepository(Repository):
    def delete(self, account_id: str, region_name: str) -> None:
        ecr_backends[account_id][region_name].delete_repository(self.name, force=True)


class ImageRepository(_Override, CloudFormationModel):
    BASE = Repository

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Repository:
        p = cloudformation_json["Properties"]
        name = p.get("RepositoryName", resource_name.lower())
        repository = Repository.create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name, **kwargs
        )
        if "LifecyclePolicy" in p:
            ecr_backends[account_id][region_name].put_lifecycle_policy(
                account_id, name, p["LifecyclePolicy"]["LifecyclePolicyText"]
            )
        if p.get("EmptyOnDelete"):
            become(repository, _EmptyOnDeleteRepository)
        return repository


class SsmParameter(_Override, CloudFormationModel):
    BASE = Parameter

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Parameter:
        p = dict(cloudformation_json["Properties"])
        if isinstance(p.get("Tags"), dict):
            p["Tags"] = [{"Key": k, "Value": v} for k, v in p["Tags"].items()]
        return Parameter.create_from_cloudformation_json(
            resource_name,
            {**cloudformation_json, "Properties": p},
            account_id,
            region_name,
            **kwargs,
        )


class _DBInstance(DBInstance):
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "MasterUserSecret.SecretArn":
            return self.master_user_secret.secret_arn
        if attribute_name == "DBInstanceArn":
            return self.db_instance_arn
        return super().get_cfn_attribute(attribute_name)


def _name(value: Any) -> Any:
    """A Ref to some moto RDS models yields the model, not its name."""
    return getattr(value, "name", value)


class Database(_Override, CloudFormationModel):
    BASE = DBInstance

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> DBInstance:
        p = cloudformation_json["Properties"]
        engine = p["Engine"]
        database = rds_backends[account_id][region_name].create_db_instance(
            {
                "db_instance_identifier": p.get("DBInstanceIdentifier", resource_name).lower(),
                "db_instance_class": p["DBInstanceClass"],
                "engine": engine,
                "engine_version": p.get("EngineVersion"),
                "db_name": p.get("DBName"),
                "port": int(p.get("Port", DBInstance.default_port(engine))),
                "allocated_storage": int(p.get("AllocatedStorage", 20)),
                "max_allocated_storage": p.get("MaxAllocatedStorage"),
                "storage_type": p.get("StorageType"),
                "storage_encrypted": p.get("StorageEncrypted"),
                "master_username": p.get("MasterUsername"),
                "master_user_password": p.get("MasterUserPassword"),
                "manage_master_user_password": p.get("ManageMasterUserPassword"),
                "multi_az": p.get("MultiAZ"),
                "publicly_accessible": p.get("PubliclyAccessible"),
                "db_subnet_group_name": _name(p.get("DBSubnetGroupName")),
                "db_parameter_group_name": _name(p.get("DBParameterGroupName")),
                "vpc_security_group_ids": p.get("VPCSecurityGroups", []),
                "backup_retention_period": p.get("BackupRetentionPeriod", 1),
                "copy_tags_to_snapshot": p.get("CopyTagsToSnapshot"),
                "deletion_protection": p.get("DeletionProtection") in (True, "true"),
                "auto_minor_version_upgrade": p.get("AutoMinorVersionUpgrade", True),
                "enable_cloudwatch_logs_exports": p.get("EnableCloudwatchLogsExports"),
                "enable_iam_database_authentication": p.get("EnableIAMDatabaseAuthentication"),
                "monitoring_interval": int(p.get("MonitoringInterval", 0)),
                "monitoring_role_arn": p.get("MonitoringRoleArn"),
                "tags": p.get("Tags"),
            }
        )
        become(database, _DBInstance)
        return database
