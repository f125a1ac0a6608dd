"""The template's contract with the CLI (src/cloudsite/outputs.py) and its hygiene rules."""

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from cloudsite.outputs import SOURCE_OBJECT_KEY, STACK_TAG, Output, Param
from tests.template.cfn import REGION, Json, Rendered

PARAMS = [v for k, v in vars(Param).items() if k.isupper()]
OUTPUTS = [v for k, v in vars(Output).items() if k.isupper()]
# Outputs that exist only with the site's media bucket (EnableMedia; the site role also with
# the task queue).
MEDIA_OUTPUTS = {Output.MEDIA_BUCKET_NAME, Output.SITE_ROLE_ARN}
# Outputs that exist only with background work: the task queue (TaskBroker sqs) and the
# schedules (EnableSchedules).
BACKGROUND_OUTPUTS = {
    Output.QUEUE_URL,
    Output.SCHEDULE_GROUP_NAME,
    Output.SCHEDULER_ROLE_ARN,
    Output.SCHEDULE_DOCUMENT_NAME,
}
STATEFUL_TYPES = {
    "AWS::S3::Bucket",
    "AWS::ECR::Repository",
    "AWS::RDS::DBInstance",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::ElastiCache::ReplicationGroup",
}


@pytest.mark.parametrize("name", PARAMS)
def test_template_declares_every_parameter_the_cli_sets(template: Json, name: str) -> None:
    assert name in template["Parameters"]


@pytest.mark.parametrize("name", OUTPUTS)
def test_template_declares_every_output_the_cli_reads(template: Json, name: str) -> None:
    assert name in template["Outputs"]


def test_cli_reads_every_output_it_needs_in_both_database_modes(stack: Rendered) -> None:
    missing = [name for name in OUTPUTS if name not in stack.outputs]
    assert set(missing) == MEDIA_OUTPUTS | BACKGROUND_OUTPUTS, "outputs missing when rendered"


@pytest.mark.parametrize(
    ("scenario", "absent"),
    [
        ("media", BACKGROUND_OUTPUTS),
        ("kept-data", BACKGROUND_OUTPUTS),
        ("background", {Output.MEDIA_BUCKET_NAME}),
    ],
)
def test_optional_outputs_exist_with_what_they_name(
    template: Json, scenario: str, absent: set[str]
) -> None:
    from tests.template.cfn import render
    from tests.template.conftest import SCENARIOS

    outputs = render(template, SCENARIOS[scenario]).outputs
    assert {name for name in OUTPUTS if name not in outputs} == absent


def test_s3_source_action_watches_the_key_the_cli_uploads(stack: Rendered) -> None:
    stages = stack.props("Pipeline")["Stages"]
    source = stages[0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"]["S3ObjectKey"] == SOURCE_OBJECT_KEY
    assert source["Configuration"]["PollForSourceChanges"] is False


def test_every_taggable_resource_carries_the_stack_tag(any_stack: Rendered) -> None:
    untagged = []
    for logical_id, resource in any_stack.resources.items():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
        if "Tags" not in schema.get("properties", {}):
            continue
        tags = resource["Properties"].get("Tags")
        keys = tags.keys() if isinstance(tags, dict) else [t["Key"] for t in tags or []]
        if STACK_TAG not in keys:
            untagged.append(logical_id)
    assert untagged == []


def test_instances_and_their_volumes_inherit_the_stack_tag(stack: Rendered) -> None:
    specs = stack.props("LaunchTemplate")["LaunchTemplateData"]["TagSpecifications"]
    tagged = {s["ResourceType"] for s in specs if STACK_TAG in [t["Key"] for t in s["Tags"]]}
    assert tagged == {"instance", "volume", "network-interface"}
    asg_tags = {t["Key"]: t for t in stack.props("AutoScalingGroup")["Tags"]}
    assert asg_tags[STACK_TAG]["PropagateAtLaunch"] is True


def test_every_stateful_resource_states_its_deletion_and_replace_policies(template: Json) -> None:
    vague = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
        and not {"DeletionPolicy", "UpdateReplacePolicy"} <= resource.keys()
    ]
    assert vague == []


def test_database_is_snapshotted_on_delete_and_on_replacement(template: Json) -> None:
    database = template["Resources"]["Database"]
    assert (database["DeletionPolicy"], database["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")


def test_every_parameter_is_described_and_constrained(template: Json) -> None:
    loose = []
    for name, spec in template["Parameters"].items():
        constrained = {"AllowedValues", "AllowedPattern", "MinValue"} & spec.keys()
        ssm = spec["Type"].startswith("AWS::SSM::Parameter::Value")
        if not spec.get("Description") or not (constrained or ssm):
            loose.append(name)
    assert loose == []


def test_every_parameter_sits_in_one_interface_group(template: Json) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [p for group in groups for p in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


def test_ami_comes_from_a_public_ssm_parameter_not_an_id(template: Json, stack: Rendered) -> None:
    spec = template["Parameters"][Param.AMI_PARAMETER]
    assert spec["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert spec["Default"].startswith("/aws/service/ami-amazon-linux-latest/al2023-")
    data = stack.props("LaunchTemplate")["LaunchTemplateData"]
    assert data["ImageId"] == {"Ref": Param.AMI_PARAMETER}


def test_no_availability_zone_is_hard_coded(stack: Rendered) -> None:
    for subnet in stack.of_type("AWS::EC2::Subnet").values():
        assert "Fn::GetAZs" in subnet["Properties"]["AvailabilityZone"]["Fn::Select"][1]
