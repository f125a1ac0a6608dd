"""Least privilege: no wildcard actions, and Resource "*" only where AWS allows nothing else."""

import pytest

from tests.template.cfn import Json, Rendered, as_list, policy_statements, walk

# (role, statement Sid) allowed Resource "*": each action in it has no resource-level
# permission (the template says so in a comment next to each one).
STAR_RESOURCE_ALLOWED = {
    ("LockdownFunctionRole", "DescribeGroups"): {"ec2:DescribeSecurityGroups"},
    ("InstanceRole", "EcrLogin"): {"ecr:GetAuthorizationToken"},
    ("InstanceRole", "SeeOwnReadiness"): {
        "autoscaling:DescribeAutoScalingInstances",
        "elasticloadbalancing:DescribeTargetHealth",
    },
    ("BuildRole", "EcrLogin"): {"ecr:GetAuthorizationToken"},
    ("DeployRole", "Describe"): {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeLifecycleHooks",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
    },
}
AWS_MANAGED_POLICIES_ALLOWED = {
    "AmazonSSMManagedInstanceCore",
    "service-role/AmazonRDSEnhancedMonitoringRole",
}


def test_no_statement_allows_every_action_or_every_action_of_a_service(any_stack: Rendered) -> None:
    for role, statement in policy_statements(any_stack):
        for action in as_list(statement.get("Action", [])):
            assert action != "*" and not action.endswith(":*"), (role, action)
        assert "NotAction" not in statement and "NotResource" not in statement, role


def test_resource_star_only_where_aws_gives_no_choice(any_stack: Rendered) -> None:
    for role, statement in policy_statements(any_stack):
        if "*" in as_list(statement["Resource"]):
            allowed = STAR_RESOURCE_ALLOWED.get((role, statement.get("Sid", "")))
            assert allowed is not None, (role, statement)
            assert set(as_list(statement["Action"])) == allowed


def test_wildcard_statements_say_why_in_the_template() -> None:
    from tests.template.cfn import TEMPLATE_PATH

    text = TEMPLATE_PATH.read_text()
    assert text.count("# AWS gives no choice") == len(STAR_RESOURCE_ALLOWED)


def test_only_narrow_aws_managed_policies_are_attached(any_stack: Rendered) -> None:
    for role in any_stack.of_type("AWS::IAM::Role").values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            name = arn["Fn::Sub"].split(":policy/", 1)[1]
            assert name in AWS_MANAGED_POLICIES_ALLOWED
            assert "FullAccess" not in name


@pytest.mark.parametrize(
    ("role", "service"),
    [
        ("InstanceRole", "ec2"),
        ("BuildRole", "codebuild"),
        ("DeployRole", "codedeploy"),
        ("PipelineRole", "codepipeline"),
    ],
)
def test_each_role_trusts_only_its_own_service(stack: Rendered, role: str, service: str) -> None:
    (statement,) = stack.props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": f"{service}.amazonaws.com"}


def test_instances_read_only_their_own_artifacts_images_logs_settings_and_secrets(
    stack: Rendered,
) -> None:
    statements = {s["Sid"]: s for r, s in policy_statements(stack) if r == "InstanceRole"}
    assert statements["ReadDeployBundles"]["Resource"] == {"Fn::Sub": "${ArtifactBucket.Arn}/*"}
    assert statements["PullOwnImages"]["Resource"] == {"Fn::GetAtt": ["Repository", "Arn"]}
    log_groups = {r["Fn::GetAtt"][0] for r in statements["WriteOwnLogs"]["Resource"]}
    assert log_groups == {"AppLogGroup", "DeployLogGroup", "BootstrapLogGroup"}
    secrets = as_list(statements["ReadOwnSecrets"]["Resource"])
    assert {"Ref": "DjangoSecretKey"} in secrets
    with_db = "Database" in stack.resources
    assert ({"Fn::GetAtt": ["Database", "MasterUserSecret.SecretArn"]} in secrets) is with_db
    assert "ssm:PutParameter" not in str(statements)


def test_no_plaintext_secret_anywhere(template: Json) -> None:
    for node in walk(template):
        if isinstance(node, dict):
            assert "MasterUserPassword" not in node
            for key in ("NoEcho",):
                assert key not in node
    assert "OAuthToken" not in str(template)
