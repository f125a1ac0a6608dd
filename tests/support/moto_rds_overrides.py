"""moto's RDS DBInstance, completed (see moto_models): what CloudFormation does with it that
moto's own model does not.

- Creation: ManageMasterUserPassword, VPCSecurityGroups, the default PostgreSQL port, and
  GetAtt MasterUserSecret.SecretArn.
- DBSnapshotIdentifier restores the instance from that snapshot (name or ARN), through the RDS
  backend's restore_db_instance_from_db_snapshot: the database's name, administrator and
  encryption come from the snapshot. ManageMasterUserPassword gives the restored instance a
  new managed secret, as CloudFormation's handler does by a ModifyDBInstance right after the
  restore.
- DeletionPolicy Snapshot: deleting the stack takes a final manual snapshot first, named as
  CloudFormation's RDS handler names it, `<stack>-snapshot-<logical id>-<12 random>` in lower
  case (aws-cloudformation-resource-providers-rds, DeleteHandler and IdentifierFactory), with
  the instance's tags when CopyTagsToSnapshot is on (moto's snapshot copies them, as RDS does).
  moto's CloudFormation passes a resource's DeletionPolicy nowhere but to creation (it skips
  Retain resources on delete and treats Snapshot as Delete), so the policy is kept on the
  instance then.
"""

import secrets
from typing import Any, cast

from moto.core.common_models import CloudFormationModel
from moto.rds.models import DBInstance, rds_backends

from tests.support.moto_override_base import Json, Override, become


class _DBInstance(DBInstance):
    # Set at creation: the final snapshot's name for DeletionPolicy Snapshot, else None.
    final_snapshot_identifier: str | None = None

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "MasterUserSecret.SecretArn":
            return self.master_user_secret.secret_arn
        if attribute_name == "DBInstanceArn":
            return self.db_instance_arn
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        rds_backends[account_id][region_name].delete_db_instance(
            self.db_instance_identifier,
            final_db_snapshot_identifier=self.final_snapshot_identifier,
        )


def _name(value: Any) -> Any:
    """A Ref to some moto RDS models yields the model, not its name."""
    return getattr(value, "name", value)


def final_snapshot_name(*, stack_id: str, logical_id: str) -> str:
    """`<stack>-snapshot-<logical id>-<12 random letters or digits>`, lower case: what
    CloudFormation calls the final snapshot of DeletionPolicy Snapshot."""
    stack = stack_id.split("/")[1] if stack_id.startswith("arn:") else stack_id
    return f"{stack}-Snapshot-{logical_id}-{secrets.token_hex(6)}".lower()


def _settings(p: Json, resource_name: str) -> Json:
    """The DBInstance properties as the RDS backend's keyword arguments."""
    engine = p["Engine"]
    return {
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
        "multi_az": p.get("MultiAZ") in (True, "true"),
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


# What a restore takes from the snapshot, never from the template (RDS refuses them beside
# DBSnapshotIdentifier).
FROM_THE_SNAPSHOT = ("db_name", "master_username", "master_user_password", "storage_encrypted")
# moto's restore applies only overrides that are truthy; these may be False on purpose.
FLAGS = ("deletion_protection", "multi_az", "publicly_accessible")


def _restore(backend: Any, snapshot: str, settings: Json) -> DBInstance:
    overrides = {k: v for k, v in settings.items() if k not in FROM_THE_SNAPSHOT}
    database = backend.restore_db_instance_from_db_snapshot(snapshot, overrides)
    for flag in FLAGS:
        setattr(database, flag, settings[flag])
    return database


class Database(Override, CloudFormationModel):
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
        backend = rds_backends[account_id][region_name]
        settings = _settings(p, resource_name)
        if p.get("DBSnapshotIdentifier"):
            database = _restore(backend, p["DBSnapshotIdentifier"], settings)
        else:
            database = backend.create_db_instance(settings)
        become(database, _DBInstance)
        if cloudformation_json.get("DeletionPolicy") == "Snapshot":
            cast(_DBInstance, database).final_snapshot_identifier = final_snapshot_name(
                stack_id=kwargs["StackId"], logical_id=kwargs["LogicalId"]
            )
        return database
