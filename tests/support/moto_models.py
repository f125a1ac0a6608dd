"""Teach moto's CloudFormation every resource type and attribute that stack.yaml uses.

Usage: import this module before moto's server creates its first stack, then deploy as usual.

    import tests.support.moto_models  # noqa: F401  (registers the models on import)
    from tests.support.moto import moto_server

    with moto_server() as endpoint:
        ...create_stack(TemplateBody=stack.yaml, Parameters=[...every list parameter...])

Why: moto's CloudFormation silently skips types it does not know (the stack still reports
CREATE_COMPLETE) and quietly ignores many properties of types it does know. A model here is
backed by moto's own service backend for that type, so what the stack creates is real in the
emulator: boto3's describe and list calls return it, and deleting the stack deletes it.

New types (this module): SecurityGroupEgress, S3 BucketPolicy, CodeBuild Project, CodeDeploy
Application and DeploymentGroup, CodePipeline Pipeline, CloudWatch Alarm, SNS Subscription,
Secrets Manager Secret, Auto Scaling ScalingPolicy, RDS EventSubscription and the
CustomResource that locks the default security group; the pipeline's types are in
moto_pipeline_models, background work's (SQS QueuePolicy, ElastiCache ReplicationGroup and
SubnetGroup, Scheduler ScheduleGroup) in moto_background_models. Fixed here too: SSM
Document (moto keeps a template's Content as a dict, which describe_document and get_document
cannot answer, and names it with a bare UUID).
Fixes to moto's own types: moto_s3_overrides (Bucket), moto_rds_overrides
(DBInstance: restore from a snapshot, the final snapshot of DeletionPolicy Snapshot) and
moto_overrides (SecurityGroup, FlowLog, LoadBalancer, TargetGroup, IAM Role, ECR Repository,
SSM Parameter, VPCEndpoint).

Deleting the stack deletes what it made (tests/template/test_emulator_secrets.py proves it),
once the buckets are empty and DeletionProtection is "false": as in AWS, moto then refuses to
delete a protected database. What DeletionPolicy keeps stays: moto skips Retain resources (the
media bucket and its policy), and the database leaves its final snapshot
(tests/template/test_emulator_data.py). moto reads the YAML (short tags included) as well as
minified JSON.

What no model can fix, so callers must know:
- moto does not split a CommaDelimitedList parameter's Default: pass every list parameter
  explicitly (AllowedClientCidrs, SshCidrs, PublicSubnetIds, PrivateSubnetIds; "" for empty).
- CreationPolicy and UpdatePolicy are ignored: no instance ever signals, nothing waits.
- IAM policies are stored, not enforced.
"""

import json
from typing import Any

import yaml
from moto.autoscaling.models import autoscaling_backends
from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.rds.models import rds_backends
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sns.models import sns_backends
from moto.ssm.models import Document

from tests.support import (
    moto_background_models,
    moto_overrides,
    moto_pipeline_models,
    moto_rds_overrides,
    moto_s3_overrides,
)
from tests.support.moto_model_base import Json, Model, drop_none
from tests.support.moto_override_base import Override

# Importing them registers them: moto finds models by subclass, not by name.
REGISTERED = (
    moto_overrides,
    moto_s3_overrides,
    moto_rds_overrides,
    moto_pipeline_models,
    moto_background_models,
)


class SecurityGroupEgress(Model, CloudFormationModel):
    TYPE = "AWS::EC2::SecurityGroupEgress"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "SecurityGroupEgress":
        props = cloudformation_json["Properties"]
        rule = moto_overrides.egress_rule(props)
        rules, _ = ec2_backends[account_id][region_name].authorize_security_group_egress(
            group_name_or_id=props["GroupId"], **rule
        )
        model = cls(rules[0].id)
        model.state.update(group=props["GroupId"], rule=rule)
        return model

    def delete(self, account_id: str, region_name: str) -> None:
        ec2 = ec2_backends[account_id][region_name]
        if ec2.get_security_group_from_id(self.state["group"]) is None:
            return  # deleted with its group (moto deletes a stack in no particular order)
        ec2.revoke_security_group_egress(group_name_or_id=self.state["group"], **self.state["rule"])


class BucketPolicy(Model, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "BucketPolicy":
        props = cloudformation_json["Properties"]
        bucket = props["Bucket"]
        backend = s3_backends[account_id]["aws"]
        document = drop_none(props["PolicyDocument"])
        backend.put_bucket_policy(bucket, json.dumps(document).encode())
        moto_s3_overrides.evaluate_policy_conditions(backend.get_bucket(bucket))
        model = cls(f"{bucket}-policy")
        model.state["bucket"] = bucket
        return model

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id]["aws"]
        if self.state["bucket"] in backend.buckets:  # else deleted with its bucket
            backend.delete_bucket_policy(self.state["bucket"])


class Alarm(Model, CloudFormationModel):
    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "Alarm":
        p = cloudformation_json["Properties"]
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=p.get("AlarmName", resource_name),
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]),
            threshold=float(p["Threshold"]),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            extended_statistic=p.get("ExtendedStatistic"),
            treat_missing_data=p.get("TreatMissingData"),
            tags=p.get("Tags"),
        )
        return cls(alarm.name, Arn=alarm.alarm_arn)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_resource_id])


class Subscription(Model, CloudFormationModel):
    TYPE = "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "Subscription":
        p = cloudformation_json["Properties"]
        subscription = sns_backends[account_id][region_name].subscribe(
            p["TopicArn"], p["Endpoint"], p["Protocol"]
        )
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_resource_id)


class Secret(Model, CloudFormationModel):
    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "Secret":
        p = cloudformation_json["Properties"]
        backend = secretsmanager_backends[account_id][region_name]
        value = p.get("SecretString")
        if "GenerateSecretString" in p:
            g = p["GenerateSecretString"]
            value = json.loads(
                backend.get_random_password(
                    password_length=int(g.get("PasswordLength", 32)),
                    exclude_characters=g.get("ExcludeCharacters", ""),
                    exclude_numbers=bool(g.get("ExcludeNumbers")),
                    exclude_punctuation=bool(g.get("ExcludePunctuation")),
                    exclude_uppercase=bool(g.get("ExcludeUppercase")),
                    exclude_lowercase=bool(g.get("ExcludeLowercase")),
                    include_space=bool(g.get("IncludeSpace")),
                    require_each_included_type=bool(g.get("RequireEachIncludedType", True)),
                )
            )["RandomPassword"]
        created = json.loads(
            backend.create_secret(
                name=p.get("Name", resource_name),
                secret_string=value,
                secret_binary=None,
                description=p.get("Description"),
                tags=p.get("Tags"),
                kms_key_id=p.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
        )
        return cls(created["ARN"], Id=created["ARN"])

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.physical_resource_id,
            recovery_window_in_days=None,
            force_delete_without_recovery=True,
        )


class ScalingPolicy(Model, CloudFormationModel):
    TYPE = "AWS::AutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "ScalingPolicy":
        p = cloudformation_json["Properties"]
        policy = autoscaling_backends[account_id][region_name].put_scaling_policy(
            name=p.get("PolicyName", resource_name),
            policy_type=p.get("PolicyType", "SimpleScaling"),
            metric_aggregation_type=p.get("MetricAggregationType"),
            adjustment_type=p.get("AdjustmentType"),
            as_name=p["AutoScalingGroupName"],
            min_adjustment_magnitude=p.get("MinAdjustmentMagnitude"),
            scaling_adjustment=p.get("ScalingAdjustment"),
            cooldown=p.get("Cooldown"),
            target_tracking_config=p.get("TargetTrackingConfiguration", {}),
            step_adjustments=p.get("StepAdjustments", []),
            estimated_instance_warmup=p.get("EstimatedInstanceWarmup"),
            predictive_scaling_configuration=p.get("PredictiveScalingConfiguration", {}),
        )
        model = cls(policy.arn, Arn=policy.arn, PolicyName=policy.name)
        model.state["name"] = policy.name
        return model

    def delete(self, account_id: str, region_name: str) -> None:
        autoscaling_backends[account_id][region_name].delete_policy(self.state["name"])


class EventSubscription(Model, CloudFormationModel):
    TYPE = "AWS::RDS::EventSubscription"
    NAME_PROPERTY = "SubscriptionName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "EventSubscription":
        p = cloudformation_json["Properties"]
        name = p.get("SubscriptionName", resource_name)
        rds_backends[account_id][region_name].create_event_subscription(
            {
                "subscription_name": name,
                "sns_topic_arn": p["SnsTopicArn"],
                "source_type": p.get("SourceType"),
                "event_categories": p.get("EventCategories", []),
                "source_ids": p.get("SourceIds", []),
                "enabled": p.get("Enabled", True),
                "tags": p.get("Tags", []),
            }
        )
        return cls(name)

    def delete(self, account_id: str, region_name: str) -> None:
        rds_backends[account_id][region_name].delete_event_subscription(self.physical_resource_id)


class DefaultSecurityGroupLockdown(Model, CloudFormationModel):
    """The template's one custom resource. moto cannot run Lambda code without Docker, so this
    does what LockdownFunction does, through moto's EC2 backend: revoke every rule of the group.
    The function's own code runs against moto in tests/template/test_lockdown_function.py."""

    TYPE = "AWS::CloudFormation::CustomResource"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "DefaultSecurityGroupLockdown":
        group_id = cloudformation_json["Properties"]["SecurityGroupId"]
        moto_overrides.revoke_all_rules(ec2_backends[account_id][region_name], group_id)
        return cls(group_id)


class SsmDocument(Override, CloudFormationModel):
    """AWS::SSM::Document. In CloudFormation, Content is an object; SSM stores it as text in
    DocumentFormat (JSON by default) and a generated name is <stack>-<logical id>-<random>.
    moto keeps the object itself (so describe_document and get_document fail on it) and names
    the document with a UUID: the text and the name are made here, then moto's model runs."""

    BASE = Document

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Document:
        p = dict(cloudformation_json["Properties"])
        p.setdefault("DocumentFormat", "JSON")
        if not isinstance(p["Content"], str):
            content = drop_none(p["Content"])
            p["Content"] = (
                yaml.safe_dump(content, sort_keys=False)
                if p["DocumentFormat"] == "YAML"
                else json.dumps(content)
            )
        p.setdefault("Name", resource_name)
        return Document.create_from_cloudformation_json(
            resource_name, {**cloudformation_json, "Properties": p}, account_id, region_name
        )


# moto caches its model list on first use; forget it so the models above are found.
for _cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cache.cache_clear()
