"""Fixes to resource types moto's CloudFormation knows but only half-builds (see moto_models).

Each override delegates to moto's own model, then applies what moto drops, through the same
backend the APIs read:
- SecurityGroup: an inline SecurityGroupEgress replaces the default allow-all rule, as in AWS.
- RouteTable: deleting the stack deletes it (moto leaves it, and then cannot delete the VPC).
- FlowLog: an S3 destination with a prefix (moto looks for a bucket named "bucket/prefix/"),
  and deleting the stack deletes it.
- LoadBalancer and TargetGroup: their attributes are applied, the GetAtt attributes
  CloudWatch needs (LoadBalancerFullName, TargetGroupFullName, ...) exist, and deleting the
  stack deletes the target group.
- IAM Role: inline policies are stored as JSON without the holes AWS::NoValue leaves, and
  ManagedPolicyArns are attached (moto loads AWS's managed policies only when told to load all
  of them; the ones a role names are loaded one by one).
- ECR Repository: a generated name is lower case (as AWS makes it, and as ECR requires), the
  scanning setting reaches the API in its own shape, the lifecycle policy is applied, and
  EmptyOnDelete deletes a repository that still has images.
- SSM Parameter: Tags is a key-value map in CloudFormation (moto expects a list).
- VPCEndpoint: its Tags are applied, and deleting the stack deletes it with its gateway routes
  (moto's own model tags nothing and deletes nothing), even when its route tables went first.
"""

import json
from functools import cache
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.vpcs import VPCEndPoint
from moto.ecr.models import Repository, ecr_backends
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup, elbv2_backends
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, Role, iam_backends
from moto.ssm.models import Parameter

from tests.support.moto_model_base import drop_none
from tests.support.moto_override_base import Json, Override, become

# Route 53 zone of Application Load Balancers, for alias records (AWS publishes one a region).
ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}


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


class SecurityGroupWithEgress(Override, CloudFormationModel):
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


class DeletableRouteTable(Override, CloudFormationModel):
    BASE = RouteTable

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        ec2 = ec2_backends[account_id][region_name]
        for association in list(ec2.get_route_table(resource_name).all_associations_ids):
            ec2.disassociate_route_table(association)
        ec2.delete_route_table(resource_name)


class FlowLog(Override, CloudFormationModel):
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

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        ec2 = ec2_backends[account_id][region_name]
        if resource_name in ec2.flow_logs:  # moto's own model deletes nothing
            ec2.delete_flow_logs([resource_name])


class _LoadBalancer(FakeLoadBalancer):
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        if attribute_name == "CanonicalHostedZoneID":
            region = self.arn.split(":")[3]
            return ALB_HOSTED_ZONES.get(region, ALB_HOSTED_ZONES["us-east-1"])
        return super().get_cfn_attribute(attribute_name)


class LoadBalancer(Override, CloudFormationModel):
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


class TargetGroup(Override, CloudFormationModel):
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

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        elbv2_backends[account_id][region_name].delete_target_group(resource_name)


class _EmptyOnDeleteRepository(Repository):
    def delete(self, account_id: str, region_name: str) -> None:
        ecr_backends[account_id][region_name].delete_repository(self.name, force=True)


class ImageRepository(Override, CloudFormationModel):
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
        if "ImageScanningConfiguration" in p:
            scan = p["ImageScanningConfiguration"]
            p = {**p, "ImageScanningConfiguration": {"scanOnPush": scan.get("ScanOnPush", False)}}
        repository = Repository.create_from_cloudformation_json(
            name, {**cloudformation_json, "Properties": p}, account_id, region_name, **kwargs
        )
        if "LifecyclePolicy" in p:
            ecr_backends[account_id][region_name].put_lifecycle_policy(
                account_id, name, p["LifecyclePolicy"]["LifecyclePolicyText"]
            )
        if p.get("EmptyOnDelete"):
            become(repository, _EmptyOnDeleteRepository)
        return repository


class SsmParameter(Override, CloudFormationModel):
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


@cache
def _aws_managed_policies() -> dict[str, Any]:
    return dict(json.loads(aws_managed_policies_data))


def attach_managed_policy(iam: Any, *, arn: str, role_name: str) -> None:
    if arn not in iam.managed_policies:
        name = arn.rsplit("/", 1)[1]
        data = _aws_managed_policies()[name]
        policy = AWSManagedPolicy.from_data(name, iam.account_id, "us-east-1", data)
        iam.managed_policies[policy.arn] = policy
    iam.attach_role_policy(arn, role_name)


class RoleWithManagedPolicies(Override, CloudFormationModel):
    BASE = Role

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Role:
        role = Role.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        iam = iam_backends[account_id]["aws"]
        for policy in cloudformation_json["Properties"].get("Policies", []):
            # moto stores a template's inline policy as a dict and answers its repr(); AWS
            # stores (and answers) JSON.
            document = drop_none(policy["PolicyDocument"])
            role.put_policy(policy["PolicyName"], json.dumps(document))
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
            attach_managed_policy(iam, arn=arn, role_name=role.name)
        return role

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        # As CloudFormation does (moto refuses to delete a role with policies attached).
        iam = iam_backends[account_id]["aws"]
        for arn in list(iam.get_role(resource_name).managed_policies):
            iam.detach_role_policy(arn, resource_name)
        Role.delete_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )


class VpcEndpoint(Override, CloudFormationModel):
    BASE = VPCEndPoint

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> VPCEndPoint:
        endpoint = VPCEndPoint.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        for tag in cloudformation_json["Properties"].get("Tags", []):
            endpoint.add_tag(tag["Key"], tag["Value"])
        return endpoint

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        ec2 = ec2_backends[account_id][region_name]
        endpoint = ec2.vpc_end_points.get(resource_name)
        if endpoint is None:
            return
        # moto deletes a stack in no particular order: a route table deleted first took the
        # endpoint's route in it along.
        endpoint.route_table_ids = [r for r in endpoint.route_table_ids if r in ec2.route_tables]
        ec2.delete_vpc_endpoints([resource_name])
        del ec2.vpc_end_points[resource_name]
