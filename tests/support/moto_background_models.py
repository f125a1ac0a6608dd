"""moto models for the template's background-work types (issue 24), which moto's
CloudFormation would skip: the task queue's policy, the Valkey server, its subnet group, and
the schedule group. Each is backed by moto's own backend for its service, so what the stack
makes reads back through the AWS APIs; moto_models imports this module, which registers them.

- AWS::SQS::QueuePolicy sets the Policy attribute of each of its queues.
- AWS::ElastiCache::ReplicationGroup resolves its AuthToken's dynamic reference
  ({{resolve:secretsmanager:ARN}}, which moto leaves as text) from moto's Secrets Manager, as
  CloudFormation does, and refuses a token ElastiCache would refuse (16-128 printable
  characters, none of @ " /).
- AWS::ElastiCache::SubnetGroup and AWS::Scheduler::ScheduleGroup: made and deleted with the
  stack (deleting the group deletes its schedules, as in AWS).
"""

import json
import re
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.elasticache.models import elasticache_backends
from moto.scheduler.models import scheduler_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends

from tests.support.moto_model_base import Json, Model, drop_none, tag_list

DYNAMIC_SECRET = re.compile(r"^\{\{resolve:secretsmanager:([^}]+?)\}\}$")


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class QueuePolicy(Model, CloudFormationModel):
    TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "QueuePolicy":
        props = cloudformation_json["Properties"]
        backend = sqs_backends[account_id][region_name]
        document = json.dumps(drop_none(props["PolicyDocument"]))
        names = [_queue_name(url) for url in props["Queues"]]
        for name in names:
            backend.set_queue_attributes(name, {"Policy": document})
        model = cls(f"{resource_name}-policy")
        model.state["queues"] = names
        return model

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for name in self.state["queues"]:
            if name in backend.queues:  # else deleted with its queue
                backend.set_queue_attributes(name, {"Policy": ""})


class CacheSubnetGroup(Model, CloudFormationModel):
    TYPE = "AWS::ElastiCache::SubnetGroup"
    NAME_PROPERTY = "CacheSubnetGroupName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "CacheSubnetGroup":
        props = cloudformation_json["Properties"]
        name = props.get("CacheSubnetGroupName", resource_name).lower()
        group = elasticache_backends[account_id][region_name].create_cache_subnet_group(
            cache_subnet_group_name=name,
            cache_subnet_group_description=props["Description"],
            subnet_ids=props["SubnetIds"],
            tags=tag_list(props),
        )
        return cls(group.cache_subnet_group_name)

    def delete(self, account_id: str, region_name: str) -> None:
        groups = elasticache_backends[account_id][region_name].cache_subnet_groups
        groups.pop(self.physical_resource_id, None)  # moto has no DeleteCacheSubnetGroup


def resolved_secret(value: str, account_id: str, region_name: str) -> str:
    """A {{resolve:secretsmanager:ID}} reference's SecretString, as CloudFormation reads it
    (a plain value is returned as it is)."""
    found = DYNAMIC_SECRET.match(value)
    if not found:
        return value
    secret_id, *rest = found[1].split(":SecretString:", 1)
    if rest and rest[0].strip(":"):
        raise ValueError(f"only whole-secret references are taught to moto: {value}")
    backend: Any = secretsmanager_backends[account_id][region_name]  # no version: the current
    return str(backend.get_secret_value(secret_id, None, None)["SecretString"])


class ReplicationGroup(Model, CloudFormationModel):
    TYPE = "AWS::ElastiCache::ReplicationGroup"
    NAME_PROPERTY = "ReplicationGroupId"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "ReplicationGroup":
        p = cloudformation_json["Properties"]
        token = resolved_secret(p.get("AuthToken", ""), account_id, region_name)
        if token and not (16 <= len(token) <= 128 and not set('@"/') & set(token)):
            raise ValueError('AuthToken: ElastiCache takes 16-128 characters without @ " /')
        # ElastiCache ids are lowercase, at most 40 characters.
        group_id = p.get("ReplicationGroupId", resource_name).lower()[:40].rstrip("-")
        # Every argument moto's backend takes, those CloudFormation has no property for empty.
        arguments: dict[str, Any] = dict(
            replication_group_id=group_id,
            replication_group_description=p["ReplicationGroupDescription"],
            global_replication_group_id=None,
            primary_cluster_id=None,
            automatic_failover_enabled=bool(p.get("AutomaticFailoverEnabled")),
            multi_az_enabled=bool(p.get("MultiAZEnabled")),
            num_cache_clusters=int(p.get("NumCacheClusters", 1)),
            preferred_cache_cluster_azs=None,
            num_node_groups=None,
            replicas_per_node_group=None,
            node_group_configuration=[],
            cache_node_type=p["CacheNodeType"],
            engine=p.get("Engine", "redis"),
            engine_version=p.get("EngineVersion"),
            cache_parameter_group_name=p.get("CacheParameterGroupName"),
            cache_subnet_group_name=p.get("CacheSubnetGroupName"),
            cache_security_group_names=[],
            security_group_ids=p.get("SecurityGroupIds", []),
            tags=tag_list(p),
            snapshot_arns=[],
            snapshot_name=None,
            preferred_maintenance_window=p.get("PreferredMaintenanceWindow"),
            port=int(p.get("Port", 6379)),
            notification_topic_arn=None,
            auto_minor_version_upgrade=bool(p.get("AutoMinorVersionUpgrade", True)),
            snapshot_retention_limit=int(p.get("SnapshotRetentionLimit", 0)),
            snapshot_window=p.get("SnapshotWindow"),
            auth_token=token,
            transit_encryption_enabled=bool(p.get("TransitEncryptionEnabled")),
            at_rest_encryption_enabled=bool(p.get("AtRestEncryptionEnabled")),
            kms_key_id=p.get("KmsKeyId"),
            user_group_ids=[],
            log_delivery_configurations=[],
            data_tiering_enabled=False,
            network_type=None,
            ip_discovery=None,
            transit_encryption_mode=p.get("TransitEncryptionMode"),
            cluster_mode=None,
            serverless_cache_snapshot_name=None,
        )
        backend = elasticache_backends[account_id][region_name]
        group = backend.create_replication_group(**arguments)
        endpoint = group.node_groups[0]["primary_endpoint"]
        return cls(
            group.replication_group_id,
            **{
                "PrimaryEndPoint.Address": endpoint["address"],
                "PrimaryEndPoint.Port": str(endpoint["port"]),
            },
        )

    def delete(self, account_id: str, region_name: str) -> None:
        backend = elasticache_backends[account_id][region_name]
        if self.physical_resource_id in backend.replication_groups:
            backend.delete_replication_group(self.physical_resource_id, None)
            backend.replication_groups.pop(self.physical_resource_id)  # moto keeps "deleting"


class ScheduleGroup(Model, CloudFormationModel):
    TYPE = "AWS::Scheduler::ScheduleGroup"
    NAME_PROPERTY = "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "ScheduleGroup":
        p = cloudformation_json["Properties"]
        group = scheduler_backends[account_id][region_name].create_schedule_group(
            name=p.get("Name", resource_name), tags=tag_list(p)
        )
        return cls(group.name, Arn=group.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = scheduler_backends[account_id][region_name]
        if self.physical_resource_id in backend.schedule_groups:
            backend.delete_schedule_group(self.physical_resource_id)
