"""A deployed site's AWS side, built directly with boto3 in moto: a VPC, the two security
groups, an application load balancer with an HTTPS listener, a target group with two
instances, and a CloudFormation stack that carries the outputs and parameters verify reads
(the resources themselves are not in the stack: the full template is tested elsewhere)."""

import json
from dataclasses import dataclass
from typing import Any

import boto3

from cloudsite.outputs import Output, Param
from tests.verify.pki import certificate_and_key

CONFIGURED_CIDRS = ("203.0.113.0/24", "2001:db8::/32")
CONFIGURED_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
APP_PORT = 8000


@dataclass(frozen=True)
class Faults:
    """What to get wrong; the default gets everything right."""

    lb_cidrs: tuple[str, ...] = CONFIGURED_CIDRS
    instance_open_port: int | None = None  # a port the instance group opens to 0.0.0.0/0
    listener_policy: str = CONFIGURED_POLICY
    stop_one_instance: bool = False


def _ingress(group: str, port: int, cidrs: tuple[str, ...], ec2: Any) -> None:
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": c} for c in cidrs if ":" not in c],
                "Ipv6Ranges": [{"CidrIpv6": c} for c in cidrs if ":" in c],
            }
        ],
    )


def _network(name: str, faults: Faults, ec2: Any) -> dict[str, Any]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb_sg = ec2.create_security_group(GroupName=f"{name}-lb", Description="lb", VpcId=vpc)
    instance_sg = ec2.create_security_group(GroupName=f"{name}-app", Description="app", VpcId=vpc)
    for port in (443, 80):
        _ingress(lb_sg["GroupId"], port, faults.lb_cidrs, ec2)
    ec2.authorize_security_group_ingress(
        GroupId=instance_sg["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": APP_PORT,
                "ToPort": APP_PORT,
                "UserIdGroupPairs": [{"GroupId": lb_sg["GroupId"]}],
            }
        ],
    )
    if faults.instance_open_port:
        _ingress(instance_sg["GroupId"], faults.instance_open_port, ("0.0.0.0/0",), ec2)
    return {
        "vpc": vpc,
        "subnets": subnets,
        "lb_sg": lb_sg["GroupId"],
        "instance_sg": instance_sg["GroupId"],
    }


def _balancer(name: str, net: dict[str, Any], faults: Faults, clients: dict[str, Any]) -> dict:
    ec2, elbv2, acm = clients["ec2"], clients["elbv2"], clients["acm"]
    balancer = elbv2.create_load_balancer(
        Name=name, Subnets=net["subnets"], SecurityGroups=[net["lb_sg"]], Type="application"
    )["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=APP_PORT, VpcId=net["vpc"], HealthCheckPath="/readyz"
    )["TargetGroups"][0]["TargetGroupArn"]
    # Filtered: moto's unfiltered describe_images lists 1300 images and takes seconds.
    amazon_linux = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
    image = ec2.describe_images(Owners=["amazon"], Filters=amazon_linux)["Images"][0]["ImageId"]
    instances = ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        SubnetId=net["subnets"][0],
        SecurityGroupIds=[net["instance_sg"]],
    )["Instances"]
    ids = [i["InstanceId"] for i in instances]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": i, "Port": APP_PORT} for i in ids])
    if faults.stop_one_instance:
        ec2.stop_instances(InstanceIds=ids[1:])
    certificate, key = certificate_and_key("www.cloudsite.test")
    certificate_arn = acm.import_certificate(Certificate=certificate, PrivateKey=key)[
        "CertificateArn"
    ]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy=faults.listener_policy,
        Certificates=[{"CertificateArn": certificate_arn}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )["Listeners"][0]["ListenerArn"]
    return {"balancer": balancer, "group": group, "listener": listener}


def build_stack(name: str, *, site_url: str, faults: Faults = Faults()) -> str:
    """Create the resources and a stack named `name` that describes them; returns the
    load balancer's DNS name."""
    clients: dict[str, Any] = {
        s: boto3.client(s) for s in ("ec2", "elbv2", "acm", "cloudformation")
    }
    net = _network(name, faults, clients["ec2"])
    edge = _balancer(name, net, faults, clients)
    outputs = {
        Output.SITE_URL: site_url,
        Output.LOAD_BALANCER_DNS_NAME: edge["balancer"]["DNSName"],
        Output.LOAD_BALANCER_ARN: edge["balancer"]["LoadBalancerArn"],
        Output.HTTPS_LISTENER_ARN: edge["listener"],
        Output.TARGET_GROUP_ARN: edge["group"],
        Output.LOAD_BALANCER_SECURITY_GROUP_ID: net["lb_sg"],
        Output.INSTANCE_SECURITY_GROUP_ID: net["instance_sg"],
    }
    template = {
        "Parameters": {
            Param.TLS_POLICY: {"Type": "String"},
            Param.ALLOWED_CLIENT_CIDRS: {"Type": "CommaDelimitedList"},
            Param.DOMAIN_NAME: {"Type": "String", "Default": ""},
        },
        # A stack needs one resource; this one stands for everything built above.
        "Resources": {
            "Marker": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{name}"}}
        },
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    clients["cloudformation"].create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": Param.TLS_POLICY, "ParameterValue": CONFIGURED_POLICY},
            {
                "ParameterKey": Param.ALLOWED_CLIENT_CIDRS,
                "ParameterValue": ",".join(CONFIGURED_CIDRS),
            },
            {"ParameterKey": Param.DOMAIN_NAME, "ParameterValue": "www.cloudsite.test"},
        ],
    )
    return str(edge["balancer"]["DNSName"])
