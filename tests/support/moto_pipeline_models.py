"""moto models for the pipeline: CodeBuild, CodeDeploy and CodePipeline (see moto_models)."""

from typing import Any

from moto.codebuild.models import codebuild_backends
from moto.codedeploy.models import codedeploy_backends
from moto.codepipeline.models import codepipeline_backends
from moto.core.common_models import CloudFormationModel

from tests.support.moto_model_base import Json, Model, camel, tag_list


class BuildProject(Model, CloudFormationModel):
    TYPE = "AWS::CodeBuild::Project"
    NAME_PROPERTY = "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "BuildProject":
        props = cloudformation_json["Properties"]
        name = props.get("Name", resource_name)
        api = camel(props, renames={"BuildSpec": "buildspec"})
        project = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=props.get("Description"),
            project_source=api["source"],
            artifacts=api["artifacts"],
            environment=api["environment"],
            service_role=props["ServiceRole"],
            tags=tag_list(props, lower=True),
            cache=api.get("cache"),
            timeout=props.get("TimeoutInMinutes"),
            queued_timeout=props.get("QueuedTimeoutInMinutes"),
            source_version=props.get("SourceVersion"),
            logs_config=api.get("logsConfig"),
            vpc_config=api.get("vpcConfig"),
        )
        return cls(name, Arn=project["arn"])

    def delete(self, account_id: str, region_name: str) -> None:
        codebuild_backends[account_id][region_name].delete_project(self.physical_resource_id)


class DeployApplication(Model, CloudFormationModel):
    TYPE = "AWS::CodeDeploy::Application"
    NAME_PROPERTY = "ApplicationName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "DeployApplication":
        props = cloudformation_json["Properties"]
        name = props.get("ApplicationName", resource_name)
        codedeploy_backends[account_id][region_name].create_application(
            name, props.get("ComputePlatform", "Server"), tag_list(props)
        )
        return cls(name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = codedeploy_backends[account_id][region_name]
        backend.applications.pop(self.physical_resource_id, None)
        backend.deployment_groups.pop(self.physical_resource_id, None)


class DeploymentGroup(Model, CloudFormationModel):
    TYPE = "AWS::CodeDeploy::DeploymentGroup"
    NAME_PROPERTY = "DeploymentGroupName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "DeploymentGroup":
        props = cloudformation_json["Properties"]
        name, api = props.get("DeploymentGroupName", resource_name), camel(props)
        # The API answers each group as {"name": ...}; moto echoes what it was given.
        groups: Any = [{"name": n} for n in props.get("AutoScalingGroups", [])]
        codedeploy_backends[account_id][region_name].create_deployment_group(
            application_name=props["ApplicationName"],
            deployment_group_name=name,
            deployment_config_name=props.get("DeploymentConfigName"),
            ec2_tag_filters=api.get("ec2TagFilters"),
            on_premises_instance_tag_filters=api.get("onPremisesInstanceTagFilters"),
            auto_scaling_groups=groups,
            service_role_arn=props["ServiceRoleArn"],
            trigger_configurations=api.get("triggerConfigurations"),
            alarm_configuration=api.get("alarmConfiguration"),
            auto_rollback_configuration=api.get("autoRollbackConfiguration"),
            outdated_instances_strategy=props.get("OutdatedInstancesStrategy"),
            deployment_style=api.get("deploymentStyle"),
            load_balancer_info=api.get("loadBalancerInfo"),
            tags=tag_list(props),
            termination_hook_enabled=props.get("TerminationHookEnabled"),
        )
        model = cls(name)
        model.state["application"] = props["ApplicationName"]
        return model

    def delete(self, account_id: str, region_name: str) -> None:
        groups = codedeploy_backends[account_id][region_name].deployment_groups
        groups.get(self.state["application"], {}).pop(self.physical_resource_id, None)


class Pipeline(Model, CloudFormationModel):
    TYPE = "AWS::CodePipeline::Pipeline"
    NAME_PROPERTY = "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "Pipeline":
        props = cloudformation_json["Properties"]
        name = props.get("Name", resource_name)
        api = camel(
            {k: v for k, v in props.items() if k not in ("Name", "Tags")},
            keep=frozenset({"Configuration"}),
        )
        for stage in api["stages"]:
            for action in stage["actions"]:
                # The API carries every action setting as a string ("false", not false).
                action["configuration"] = {
                    k: str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in action.get("configuration", {}).items()
                }
        codepipeline_backends[account_id][region_name].create_pipeline(
            {"name": name, **api}, tag_list(props, lower=True)
        )
        return cls(name, Version="1")

    def delete(self, account_id: str, region_name: str) -> None:
        codepipeline_backends[account_id][region_name].delete_pipeline(self.physical_resource_id)
