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
    ("OperatorPolicy", "FollowCommands"): {
        "ssm:GetCommandInvocation",
        "ssm:ListCommandInvocations",
        "ssm:CancelCommand",
    },
    ("OperatorPolicy", "FindHealthyInstance"): {
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    },
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
        assert "NotAction" not in statement, role
        # NotResource widens an Allow to everything else; on a Deny it narrows, which is its
        # one use here (test_instances_cannot_read_ssm_parameters_outside_the_stack_s_path).
        assert "NotResource" not in statement or statement["Effect"] == "Deny", role


def test_resource_star_only_where_aws_gives_no_choice(any_stack: Rendered) -> None:
    for role, statement in policy_statements(any_stack):
        if "*" in as_list(statement.get("Resource", [])):
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
    bundles = {"Fn::Sub": "${ArtifactBucket.Arn}/*/Bundle/*"}  # not the source zips beside them
    assert statements["ReadDeployBundles"]["Resource"] == bundles
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


def test_instances_cannot_read_ssm_parameters_outside_the_stack_s_path(stack: Rendered) -> None:
    """AmazonSSMManagedInstanceCore allows ssm:GetParameter* on "*"; an explicit Deny with
    NotResource set to the stack's own path takes every other parameter in the region back."""
    statements = {s["Sid"]: s for r, s in policy_statements(stack) if r == "InstanceRole"}
    deny = statements["NoOtherSettings"]
    assert deny["Effect"] == "Deny"
    assert set(deny["Action"]) == {
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
    }
    assert "Resource" not in deny
    assert deny["NotResource"] == statements["ReadOwnSettings"]["Resource"]
    allowed = {str(r) for r in statements["ReadOwnSettings"]["Resource"]}
    assert all("parameter/cloudsite/${AWS::StackName}" in r for r in allowed)
    managed = stack.props("InstanceRole")["ManagedPolicyArns"]
    assert managed == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    ]


def test_the_build_reads_only_source_artifacts_and_writes_only_bundles(stack: Rendered) -> None:
    """The build runs the site's code with the build role's credentials: it must not overwrite
    anything but a bundle, nor list the bucket to find the bundles a rollback deploys."""
    statements = {s["Sid"]: s for r, s in policy_statements(stack) if r == "BuildRole"}
    s3 = {
        action: str(statement["Resource"])
        for statement in statements.values()
        for action in as_list(statement["Action"])
        if action.startswith("s3:")
    }
    assert s3 == {
        "s3:GetObject": str({"Fn::Sub": "${ArtifactBucket.Arn}/*/Source/*"}),
        "s3:GetObjectVersion": str({"Fn::Sub": "${ArtifactBucket.Arn}/*/Source/*"}),
        "s3:PutObject": str({"Fn::Sub": "${ArtifactBucket.Arn}/*/Bundle/*"}),
        "s3:GetBucketAcl": str({"Fn::GetAtt": ["ArtifactBucket", "Arn"]}),
        "s3:GetBucketLocation": str({"Fn::GetAtt": ["ArtifactBucket", "Arn"]}),
    }
    for role in ("BuildRole", "InstanceRole"):  # nobody but the pipeline lists or deletes
        actions = {
            a for r, s in policy_statements(stack) if r == role for a in as_list(s["Action"])
        }
        assert not {"s3:ListBucket", "s3:ListBucketVersions", "s3:DeleteObject"} & actions, role
