"""Background work (issue 24), the template's part: the task queue (TaskBroker sqs), the Valkey
server (EnableRedis) and the schedules' group, role and document (EnableSchedules), each off
by default; what the site role, the instance role and the scheduler role may do with them;
who reaches Valkey; and what the ScheduleDocument's parameters admit and its script does with
them (run for real with the shells the agent uses)."""

import base64
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cloudsite import template as tpl
from cloudsite.config import Config
from cloudsite.outputs import Param
from tests.template.cfn import Json, Rendered, as_list, policy_statements, render
from tests.template.conftest import SCENARIOS
from tests.template.test_manage import HOSTILE, SCRIPT, admits, recorded, recorder, sub

STACK = "site"  # the stack name tests/template/cfn.py renders with
ACCOUNT = "1" * 12
QUEUE_PARTS = {
    "TaskQueue",
    "TaskDeadLetterQueue",
    "TaskQueuePolicy",
    "TaskDeadLettersAlarm",
    "TaskBacklogAlarm",
}
REDIS_PARTS = {
    "Redis",
    "RedisAuthSecret",
    "RedisSubnetGroup",
    "RedisSecurityGroup",
    "InstancesToRedis",
}
SCHEDULE_PARTS = {"ScheduleGroup", "SchedulerRole", "ScheduleDocument"}
OUTPUTS = {"QueueUrl", "ScheduleGroupName", "SchedulerRoleArn", "ScheduleDocumentName"}
SITE_QUEUE_ACTIONS = {
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
# What the instance's script reads, from each ScheduleDocument parameter (docs/interfaces.md).
EXPORTED = {
    "name": "CLOUDSITE_SCHEDULE_NAME",
    "scheduledTime": "CLOUDSITE_SCHEDULE_AT",
    "arguments": "CLOUDSITE_MANAGE_ARGS",
    "timeout": "CLOUDSITE_MANAGE_TIMEOUT",
}
RUN_ID = "CLOUDSITE_MANAGE_RUN_ID"
# What the stand-in for manage.sh records: the above, and the one-off parameter it must not get.
VARIABLES = {*EXPORTED.values(), RUN_ID, "CLOUDSITE_MANAGE_PARAMETER"}
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
QUEUE = {"TaskBroker": "sqs"}
REDIS = {"EnableRedis": "true"}
SCHEDULES = {"EnableSchedules": "true", "EnableDatabase": "true"}


@pytest.fixture(scope="module")
def background(template: Json) -> Rendered:
    """Everything on: the queue, Valkey, the schedules (and the database they need)."""
    return render(template, SCENARIOS["background"])


# ------------------------------------------------------------------ on and off


def test_nothing_of_background_work_exists_by_default(any_stack: Rendered) -> None:
    if any_stack.params["TaskBroker"] != "none" or any_stack.params["EnableRedis"] == "true":
        return  # the background scenario itself
    parts = QUEUE_PARTS | REDIS_PARTS | SCHEDULE_PARTS
    assert parts.isdisjoint(any_stack.resources)
    assert OUTPUTS.isdisjoint(any_stack.outputs)


@pytest.mark.parametrize(
    ("overrides", "present"),
    [
        (QUEUE, QUEUE_PARTS | {"SiteRole", "InstanceAssumesSiteRole"}),
        (REDIS, REDIS_PARTS),
        ({"TaskBroker": "redis", **REDIS}, REDIS_PARTS),
        (SCHEDULES, SCHEDULE_PARTS),
    ],
)
def test_each_switch_makes_its_own_resources_and_no_others(
    template: Json, overrides: dict[str, str], present: set[str]
) -> None:
    default = render(template, {"EnableDatabase": overrides.get("EnableDatabase", "false")})
    rendered = render(template, overrides)
    added = set(rendered.resources) - set(default.resources)
    assert added == present
    expected_outputs = {
        "QueueUrl": overrides.get("TaskBroker") == "sqs",
        "SiteRoleArn": overrides.get("TaskBroker") == "sqs",
        "ScheduleGroupName": "EnableSchedules" in overrides,
        "SchedulerRoleArn": "EnableSchedules" in overrides,
        "ScheduleDocumentName": "EnableSchedules" in overrides,
    }
    for name, there in expected_outputs.items():
        assert (name in rendered.outputs) is there, name


def test_a_redis_broker_needs_the_valkey_server(template: Json) -> None:
    rule = template["Rules"]["RedisBrokerNeedsRedis"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "TaskBroker"}, "redis"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "EnableRedis"}, "true"]}
    assert template["Parameters"]["TaskBroker"]["AllowedValues"] == ["none", "sqs", "redis"]


@pytest.mark.parametrize(
    ("broker", "redis", "schedules"),
    [("none", False, 0), ("sqs", False, 1), ("redis", True, 0), ("none", True, 2)],
)
def test_the_cli_passes_the_choice_and_the_keys(
    broker: str, redis: bool, schedules: int, template: Json
) -> None:
    from cloudsite.project.background import Choice
    from cloudsite.schema import Scheduled

    entries = tuple(
        Scheduled(f"s{i}", "manage.py clearsessions", cron="0 3 * * ? *") for i in range(schedules)
    )
    cfg = replace(
        Config(name="x"),
        task_timeout_seconds=600,
        redis_node_type="cache.t4g.small",
        schedule=entries,
        database=True,
    )
    params = tpl.stack_parameters(
        cfg,
        certificate_arn=CERTIFICATE,
        hosted_zone_id="",
        ssh_cidrs=(),
        background=Choice(broker=broker, redis=redis, why=""),
    )
    values = {p["ParameterKey"]: p["ParameterValue"] for p in params}
    assert values[Param.TASK_BROKER] == broker
    assert values[Param.ENABLE_REDIS] == ("true" if redis else "false")
    assert values[Param.ENABLE_SCHEDULES] == ("true" if schedules else "false")
    assert values[Param.TASK_TIMEOUT_SECONDS] == "600"
    assert values[Param.REDIS_NODE_TYPE] == "cache.t4g.small"
    tpl.parameters_check(params, template)  # every value within the template's constraints


def test_without_a_choice_the_cli_asks_for_no_background_work() -> None:
    params = tpl.stack_parameters(
        Config(name="x"), certificate_arn="arn:x", hosted_zone_id="", ssh_cidrs=()
    )
    values = {p["ParameterKey"]: p["ParameterValue"] for p in params}
    assert (values["TaskBroker"], values["EnableRedis"], values["EnableSchedules"]) == (
        "none",
        "false",
        "false",
    )


# ------------------------------------------------------------------ the task queue


@pytest.mark.parametrize("timeout", [30, 1800, 43_000])
def test_the_queue_hides_a_task_for_its_timeout_and_the_stop_grace(
    template: Json, timeout: int
) -> None:
    cfg = replace(Config(name="x"), task_timeout_seconds=timeout)
    params = tpl.stack_parameters(cfg, certificate_arn="arn:x", hosted_zone_id="", ssh_cidrs=())
    values = {p["ParameterKey"]: p["ParameterValue"] for p in params}
    assert (
        int(values["TaskVisibilityTimeout"])
        == timeout + 60
        == int(values[Param.TASK_TIMEOUT_SECONDS]) + 60
    )
    rendered = render(
        template,
        {
            "TaskBroker": "sqs",
            **{k: values[k] for k in ("TaskTimeoutSeconds", "TaskVisibilityTimeout")},
        },
    )
    assert rendered.props("TaskQueue")["VisibilityTimeout"] == {"Ref": "TaskVisibilityTimeout"}
    spec = template["Parameters"]["TaskVisibilityTimeout"]
    assert spec["MinValue"] <= timeout + 60 <= spec["MaxValue"] == 43_200  # SQS's longest
    # The defaults agree with each other, and with the configuration's default.
    defaults = template["Parameters"]
    assert (
        defaults["TaskVisibilityTimeout"]["Default"]
        == defaults["TaskTimeoutSeconds"]["Default"] + 60
    )
    assert defaults["TaskTimeoutSeconds"]["Default"] == Config().task_timeout_seconds


def test_the_queue_is_encrypted_long_polled_and_sets_failed_tasks_aside(template: Json) -> None:
    rendered = render(template, QUEUE)
    queue = rendered.props("TaskQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["ReceiveMessageWaitTimeSeconds"] == 10
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["TaskDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    dead = rendered.props("TaskDeadLetterQueue")
    assert dead["SqsManagedSseEnabled"] is True
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600
    for logical_id in ("TaskQueue", "TaskDeadLetterQueue"):
        resource = rendered.resources[logical_id]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert rendered.outputs["QueueUrl"]["Value"] == {"Ref": "TaskQueue"}


def test_both_queues_refuse_plain_http(template: Json) -> None:
    policy = render(template, QUEUE).props("TaskQueuePolicy")
    assert policy["Queues"] == [{"Ref": "TaskQueue"}, {"Ref": "TaskDeadLetterQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == "sqs:*"
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["TaskQueue", "Arn"]},
        {"Fn::GetAtt": ["TaskDeadLetterQueue", "Arn"]},
    ]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dead_letters_and_a_backlog_notify_the_alarm_topic(template: Json) -> None:
    rendered = render(template, QUEUE)
    dead = rendered.props("TaskDeadLettersAlarm")
    assert (dead["Namespace"], dead["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert dead["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["TaskDeadLetterQueue", "QueueName"]}}
    ]
    assert (dead["ComparisonOperator"], dead["Threshold"]) == ("GreaterThanThreshold", 0)
    backlog = rendered.props("TaskBacklogAlarm")
    assert backlog["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert backlog["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["TaskQueue", "QueueName"]}
    assert (backlog["ComparisonOperator"], backlog["Threshold"]) == ("GreaterThanThreshold", 900)
    for alarm in (dead, backlog):
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"
        # DeployRole's OwnAlarms reads the stack's alarms by this prefix.
        assert alarm["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-task-")


def site_statements(rendered: Rendered) -> list[Json]:
    return [s for role, s in policy_statements(rendered) if role == "SiteRole"]


@pytest.mark.parametrize("media", [False, True])
def test_the_site_role_uses_exactly_the_task_queue(template: Json, media: bool) -> None:
    rendered = render(template, {**QUEUE, **({"EnableMedia": "true"} if media else {})})
    statements = site_statements(rendered)
    queue = [s for s in statements if any(str(a).startswith("sqs:") for a in as_list(s["Action"]))]
    (statement,) = queue
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == SITE_QUEUE_ACTIONS
    assert len(as_list(statement["Action"])) == len(SITE_QUEUE_ACTIONS)
    assert statement["Resource"] == {"Fn::GetAtt": ["TaskQueue", "Arn"]}  # not the dead letters
    assert "Condition" not in statement and "NotResource" not in statement
    s3 = [s for s in statements if s not in queue]
    assert bool(s3) is media  # the media statements only with media
    assert all(str(a).startswith("s3:") for s in s3 for a in as_list(s["Action"]))


def test_no_other_role_reaches_the_queues(background: Rendered) -> None:
    for role, statement in policy_statements(background):
        actions = [str(a) for a in as_list(statement["Action"])]
        if role == "SiteRole" or not any(a.startswith("sqs:") for a in actions):
            continue
        raise AssertionError(f"{role} has {actions}")
    assert "TaskQueue" not in str([s for r, s in policy_statements(background) if r != "SiteRole"])


def test_the_site_role_exists_with_media_or_the_queue(template: Json) -> None:
    for overrides, there in [
        ({}, False),
        (REDIS, False),
        (QUEUE, True),
        ({"EnableMedia": "true"}, True),
    ]:
        rendered = render(template, overrides)
        assert ("SiteRole" in rendered.resources) is there, overrides
        assert ("InstanceAssumesSiteRole" in rendered.resources) is there, overrides
    assert template["Resources"]["SiteRole"]["Condition"] == "HasSiteRole"
    assert template["Conditions"]["HasSiteRole"] == {
        "Fn::Or": [{"Condition": "HasMedia"}, {"Condition": "HasQueue"}]
    }


# ------------------------------------------------------------------ Valkey


def test_valkey_is_one_encrypted_node_with_an_auth_token_from_its_own_secret(
    background: Rendered,
) -> None:
    redis = background.props("Redis")
    assert background.resources["Redis"]["Type"] == "AWS::ElastiCache::ReplicationGroup"
    assert (redis["Engine"], redis["EngineVersion"]) == ("valkey", "8.1")
    assert redis["CacheNodeType"] == {"Ref": "RedisNodeType"}
    assert (redis["NumCacheClusters"], redis["AutomaticFailoverEnabled"]) == (1, False)
    assert redis["TransitEncryptionEnabled"] is True
    assert redis["TransitEncryptionMode"] == "required"
    assert redis["AtRestEncryptionEnabled"] is True
    assert redis["AuthToken"] == {"Fn::Sub": "{{resolve:secretsmanager:${RedisAuthSecret}}}"}
    assert redis["SnapshotRetentionLimit"] >= 1
    assert redis["SecurityGroupIds"] == [{"Ref": "RedisSecurityGroup"}]
    assert redis["CacheSubnetGroupName"] == {"Ref": "RedisSubnetGroup"}
    assert redis["Port"] == 6379
    secret = background.props("RedisAuthSecret")
    generated = secret["GenerateSecretString"]
    assert generated == {"PasswordLength": 64, "ExcludePunctuation": True}  # no template: the
    assert "SecretString" not in secret  # token is the secret's whole value, and generated


def test_only_the_instances_reach_valkey_and_only_on_6379(background: Rendered) -> None:
    group = background.props("RedisSecurityGroup")
    (ingress,) = group["SecurityGroupIngress"]
    assert ingress == {
        "IpProtocol": "tcp",
        "FromPort": 6379,
        "ToPort": 6379,
        "SourceSecurityGroupId": {"Ref": "InstanceSecurityGroup"},
        "Description": "Valkey from the instances",
    }
    # The placeholder that matches nothing: no egress at all.
    assert group["SecurityGroupEgress"] == [
        {
            "IpProtocol": "icmp",
            "FromPort": 252,
            "ToPort": 86,
            "CidrIp": "255.255.255.255/32",
            "Description": "no egress",
        }
    ]
    egress = background.props("InstancesToRedis")
    assert egress["GroupId"] == {"Ref": "InstanceSecurityGroup"}
    assert egress["DestinationSecurityGroupId"] == {"Ref": "RedisSecurityGroup"}
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 6379, 6379)
    # No other rule anywhere names the Valkey group.
    for logical_id, resource in background.resources.items():
        if logical_id in ("RedisSecurityGroup", "InstancesToRedis", "Redis"):
            continue
        assert "RedisSecurityGroup" not in json.dumps(resource), logical_id


@pytest.mark.parametrize(
    ("scenario", "subnets"),
    [
        ("default", [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]),
        ("existing-vpc", {"Ref": "PrivateSubnetIds"}),
        ("existing-vpc-public-only", {"Ref": "PublicSubnetIds"}),
    ],
)
def test_valkey_sits_in_the_private_subnets_when_there_are_some(
    template: Json, scenario: str, subnets: Any
) -> None:
    overrides = dict(SCENARIOS.get(scenario, {}))
    if scenario == "existing-vpc-public-only":
        overrides = {**SCENARIOS["existing-vpc"], "PrivateSubnetIds": "", "EnableDatabase": "false"}
    rendered = render(template, {**overrides, **REDIS})
    assert rendered.props("RedisSubnetGroup")["SubnetIds"] == subnets


def test_the_instances_read_the_auth_token_and_nobody_else_does(background: Rendered) -> None:
    readers = [
        (role, s)
        for role, s in policy_statements(background)
        if any(str(a).startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    ((role, statement),) = readers
    assert (role, statement["Sid"]) == ("InstanceRole", "ReadOwnSecrets")
    assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
    assert {"Ref": "RedisAuthSecret"} in as_list(statement["Resource"])
    assert "*" not in json.dumps(statement["Resource"])


# ------------------------------------------------------------------ the schedules


def test_the_schedule_group_is_named_after_the_stack_and_tagged(background: Rendered) -> None:
    group = background.props("ScheduleGroup")
    assert group["Name"] == {"Ref": "AWS::StackName"}
    assert {"Key": "cloudsite:stack", "Value": {"Ref": "AWS::StackName"}} in group["Tags"]
    assert background.outputs["ScheduleGroupName"]["Value"] == {"Ref": "ScheduleGroup"}
    assert background.outputs["SchedulerRoleArn"]["Value"] == {
        "Fn::GetAtt": ["SchedulerRole", "Arn"]
    }
    assert background.outputs["ScheduleDocumentName"]["Value"] == {"Ref": "ScheduleDocument"}


def test_only_eventbridge_scheduler_of_this_account_and_group_assumes_the_role(
    background: Rendered,
) -> None:
    (trust,) = background.props("SchedulerRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = sub(trust["Condition"]["ArnLike"]["aws:SourceArn"], background)
    assert source == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/{STACK}/*"


def test_the_scheduler_role_sends_only_the_schedule_document_to_only_our_instances(
    background: Rendered,
) -> None:
    statements = [s for role, s in policy_statements(background) if role == "SchedulerRole"]
    assert {a for s in statements for a in as_list(s["Action"])} == {"ssm:SendCommand"}
    assert {s["Effect"] for s in statements} == {"Allow"}
    resources = {str(sub(s["Resource"], background)): s for s in statements}
    document = f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/" + "${ScheduleDocument}"
    instances = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"
    assert set(resources) == {document, instances}
    assert "Condition" not in resources[document]
    assert resources[instances]["Condition"] == {
        "StringEquals": {"ssm:resourceTag/cloudsite:stack": {"Ref": "AWS::StackName"}}
    }
    assert background.props("SchedulerRole").get("ManagedPolicyArns", []) == []


@pytest.fixture(scope="module")
def document(background: Rendered) -> Json:
    return dict(background.props("ScheduleDocument")["Content"])


def good_values() -> dict[str, list[str]]:
    def encoded(words: list[str]) -> str:
        return base64.b64encode(json.dumps(words).encode()).decode()

    return {
        "name": ["nightly", "send_digest", "_x", "A" * 32],
        "scheduledTime": ["2026-12-08T03:00:00Z", "2027-01-01T00:00:00Z"],
        "arguments": [
            encoded(["manage.py", "clearsessions"]),
            encoded(["python", "manage.py", "send_digest", "--since", "1 hour"]),
            encoded(["worker"]),
        ],
        "timeout": ["60", "3600", "43200"],
    }


def test_the_document_takes_four_parameters_each_as_an_environment_variable(
    background: Rendered, document: Json
) -> None:
    resource = background.props("ScheduleDocument")
    assert (resource["DocumentType"], resource["TargetType"]) == ("Command", "/AWS::EC2::Instance")
    assert document["schemaVersion"] == "2.2"
    assert list(document["parameters"]) == list(EXPORTED)
    for spec in document["parameters"].values():
        assert spec["type"] == "String"
        assert spec["interpolationType"] == "ENV_VAR"
        assert spec["allowedPattern"].startswith("^") and spec["allowedPattern"].endswith("$")
    assert document["parameters"]["name"]["allowedPattern"] == "^[A-Za-z_][A-Za-z0-9_]{0,31}$"


@pytest.mark.parametrize("name", list(EXPORTED))
def test_each_pattern_admits_what_a_schedule_sends(document: Json, name: str) -> None:
    spec = document["parameters"][name]
    for value in good_values()[name]:
        assert admits(spec, value), (name, value)


@pytest.mark.parametrize("name", list(EXPORTED))
@pytest.mark.parametrize("bad", HOSTILE)
def test_each_pattern_refuses_shell_metacharacters_anywhere(
    document: Json, name: str, bad: str
) -> None:
    spec = document["parameters"][name]
    for good in good_values()[name]:
        for value in (bad + good, good + bad, good[:2] + bad + good[2:], bad):
            assert not admits(spec, value), (name, value)


def test_names_and_times_outside_their_form_are_refused(document: Json) -> None:
    name, at = document["parameters"]["name"], document["parameters"]["scheduledTime"]
    for value in ("1st", "a-b", "a.b", "A" * 33, ""):
        assert not admits(name, value), value
    for value in (
        "2026-12-08T03:00:00",
        "2026-12-08 03:00:00Z",
        "2026-12-08T03:00:00.000Z",
        "<aws.scheduler.scheduled-time>",
        "2026-12-08T03:00:00+00:00",
    ):
        assert not admits(at, value), value


def script(document: Json, stand_in: Path) -> str:
    (step,) = document["mainSteps"]
    assert (step["action"], step["name"]) == ("aws:runShellScript", "schedule")
    # The longest timeout_minutes (720) and a minute: manage.sh's own bound stops a run first.
    assert step["inputs"]["timeoutSeconds"] == 720 * 60 + 60
    lines = step["inputs"]["runCommand"]
    assert "{{" not in "\n".join(lines)  # never pasted into the text
    assert lines[-1] == f"exec {SCRIPT}"
    return "\n".join(lines).replace(SCRIPT, str(stand_in)) + "\n"


HOSTILE_VALUES = {
    "name": "$(touch pwned-name)",
    "scheduledTime": "`touch pwned-at`; touch pwned-at2",
    "arguments": "' \"; touch pwned-args #\n$HOME {{ name }}",
    "timeout": "${IFS}touch${IFS}pwned-timeout|| true &",
}


@pytest.mark.parametrize("shell", ["sh", "bash"])
@pytest.mark.parametrize("kind", ["ordinary", "hostile"])
def test_the_script_passes_each_value_through_unchanged_and_makes_a_run_id(
    document: Json, tmp_path: Path, shell: str, kind: str
) -> None:
    """aws:runShellScript runs runCommand with sh; the values arrive as SSM_<name>. Whatever
    they hold reaches manage.sh byte for byte and runs nothing."""
    path = tmp_path / "_script.sh"
    path.write_text(script(document, recorder(tmp_path, VARIABLES)))
    good = {name: values[-1] for name, values in good_values().items()}
    values = HOSTILE_VALUES if kind == "hostile" else good
    env = {"PATH": "/usr/bin:/bin", **{f"SSM_{n}": v for n, v in values.items()}}
    result = subprocess.run(
        [shell, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    got = recorded(tmp_path)
    run_id = got.pop(RUN_ID)
    assert got == {EXPORTED[n]: v for n, v in values.items()}  # and no one-off parameter
    # A run id of its own (s- for scheduled), in the form manage.sh checks.
    assert re.fullmatch(r"s-[0-9]{8}t[0-9]{6}-[0-9a-f]{8}", run_id), run_id
    assert re.fullmatch(r"[a-z0-9-]{1,64}", run_id)
    assert not list(tmp_path.glob("pwned*"))


def test_the_script_refuses_an_agent_that_passes_no_environment(
    document: Json, tmp_path: Path
) -> None:
    path = tmp_path / "_script.sh"
    path.write_text(script(document, recorder(tmp_path, VARIABLES)))
    result = subprocess.run(
        ["sh", str(path)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "SSM Agent 3.3.2746.0 or later" in result.stderr
    assert recorded(tmp_path) == {}
