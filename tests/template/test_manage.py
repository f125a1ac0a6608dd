"""`cloudsite manage` (issue 22), the template's part: the two documents the stack owns, what
their parameters admit, what their scripts do with the values (run for real with the shells
the agent uses), the operator's policy and what the instance role gained for it."""

import base64
import fnmatch
import json
import re
import secrets
import shlex
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.template.cfn import Json, Rendered, as_list, policy_statements

SCRIPT = "/usr/local/lib/cloudsite/manage.sh"
STACK = "site"  # the stack name tests/template/cfn.py renders with
ACCOUNT = "1" * 12
PARAMETERS = ["arguments", "runId", "secretParameter", "timeout", "executionTimeout"]
# What the instance's script reads, from each document parameter (docs/interfaces.md).
EXPORTED = {
    "arguments": "CLOUDSITE_MANAGE_ARGS",
    "runId": "CLOUDSITE_MANAGE_RUN_ID",
    "secretParameter": "CLOUDSITE_MANAGE_PARAMETER",
    "timeout": "CLOUDSITE_MANAGE_TIMEOUT",
}
HOSTILE = [";", "$(", "`", " ", "\n", "'", '"', "|", "&", ">", "{{", "\\"]


def sub(value: Any, rendered: Rendered) -> Any:
    """An Fn::Sub with its parameters and pseudo parameters filled in as CloudFormation
    would; a resource's name (${ManageDocument}) stays as written."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text, variables = as_list(value["Fn::Sub"]) + [{}] * (isinstance(value["Fn::Sub"], str))
        names = {"AWS::Partition": "aws", **rendered.params, **variables}
        return re.sub(r"\$\{([^}!]+)\}", lambda m: str(names.get(m[1], m[0])), text)
    return value


def content(rendered: Rendered, logical_id: str) -> Json:
    document = json.loads(json.dumps(rendered.props(logical_id)["Content"]))
    for spec in document["parameters"].values():
        spec["allowedPattern"] = sub(spec["allowedPattern"], rendered)
    return dict(document)


def admits(spec: Json, value: str) -> bool:
    """The parameter takes the value: the whole of it matches, within the length limits."""
    if not spec.get("minChars", 0) <= len(value) <= spec.get("maxChars", len(value)):
        return False
    return re.fullmatch(spec["allowedPattern"], value) is not None


def run_id() -> str:
    """A run id as the CLI makes one: r-YYYYMMDDtHHMMSS-XXXXXXXX."""
    return f"r-{datetime.now(UTC):%Y%m%dt%H%M%S}-{secrets.token_hex(4)}"


def encoded(args: list[str]) -> str:
    return base64.b64encode(json.dumps(args).encode()).decode()


def sample_arguments() -> str:
    """Base64 of a JSON array whose encoding uses '+', '/' and '=' padding, all three."""
    for n in range(64):
        value = encoded(["shell", "-c", "x" * n + 'print("???>>>~~~")'])
        if {"+", "/", "="} <= set(value):
            return value
    raise AssertionError("no sample uses the whole alphabet")


def good_values() -> dict[str, list[str]]:
    rid = run_id()
    return {
        "arguments": [
            sample_arguments(),
            encoded(["migrate", "--noinput"]),
            encoded(["createsuperuser", "--noinput", "--username", "ops"]),
        ],
        "runId": [rid, "r-20261207t101500-0a1b2c3d"],
        "secretParameter": ["", f"/cloudsite/{STACK}/oneoff/{rid}"],
        "timeout": ["3600", "60", "172800"],
        "executionTimeout": ["3660", "172800"],
    }


@pytest.fixture(scope="module")
def documents(template: Json) -> dict[str, Json]:
    from tests.template.cfn import render

    rendered = render(template)
    return {
        "command": content(rendered, "ManageDocument"),
        "session": content(rendered, "ManageSessionDocument"),
    }


# ------------------------------------------------------------------ the documents' parameters


def test_both_documents_take_the_same_parameters_with_the_same_patterns(
    documents: dict[str, Json], stack: Rendered
) -> None:
    assert stack.props("ManageDocument")["DocumentType"] == "Command"
    assert stack.props("ManageSessionDocument")["DocumentType"] == "Session"
    assert documents["command"]["schemaVersion"] == "2.2"
    assert documents["session"]["sessionType"] == "InteractiveCommands"
    command, session = (documents[d]["parameters"] for d in ("command", "session"))
    assert list(command) == list(session) == PARAMETERS
    for name in PARAMETERS:
        assert command[name]["type"] == session[name]["type"] == "String"
        keys = ("allowedPattern", "minChars", "maxChars", "default")
        assert {k: command[name].get(k) for k in keys} == {k: session[name].get(k) for k in keys}


def test_every_parameter_has_a_pattern_and_the_command_document_passes_it_as_env(
    documents: dict[str, Json],
) -> None:
    for document in documents.values():
        for name, spec in document["parameters"].items():
            assert spec["allowedPattern"].startswith("^") and spec["allowedPattern"].endswith("$")
            assert name not in ("arguments",) or spec["maxChars"] >= 8192
    for spec in documents["command"]["parameters"].values():
        assert spec["interpolationType"] == "ENV_VAR"


@pytest.mark.parametrize("name", PARAMETERS)
def test_each_pattern_admits_what_the_cli_sends(documents: dict[str, Json], name: str) -> None:
    spec = documents["command"]["parameters"][name]
    for value in good_values()[name]:
        assert admits(spec, value), (name, value)
    if "default" in spec:
        assert admits(spec, spec["default"])


def test_the_arguments_may_be_as_long_as_the_cli_allows(documents: dict[str, Json]) -> None:
    spec = documents["command"]["parameters"]["arguments"]
    long = encoded(["check", "x" * 6000])
    assert len(long) <= 8192 and admits(spec, long)
    assert not admits(spec, "A" * 8196)


@pytest.mark.parametrize("name", PARAMETERS)
@pytest.mark.parametrize("bad", HOSTILE)
def test_each_pattern_refuses_shell_metacharacters_anywhere(
    documents: dict[str, Json], name: str, bad: str
) -> None:
    spec = documents["command"]["parameters"][name]
    for good in good_values()[name]:
        for value in (bad + good, good + bad, good[:2] + bad + good[2:], bad):
            assert not admits(spec, value), (name, value)
            # A matcher that only searches (no implicit anchors) finds nothing either, where the
            # character is not the very last one (`$` may match before a final newline).
            if not value.endswith(bad) or bad != "\n":
                assert re.search(spec["allowedPattern"], value) is None, (name, value)


def test_the_secret_parameter_is_this_stacks_one_off_path_and_nothing_else(
    documents: dict[str, Json],
) -> None:
    spec = documents["command"]["parameters"]["secretParameter"]
    rid = run_id()
    assert admits(spec, f"/cloudsite/{STACK}/oneoff/{rid}")
    for other in (
        f"/cloudsite/other/oneoff/{rid}",
        f"/cloudsite/{STACK}x/oneoff/{rid}",
        f"/cloudsite/{STACK}/DJANGO_ALLOWED_HOSTS",
        f"/cloudsite/{STACK}/oneoff/",
        f"/cloudsite/{STACK}/oneoff/{rid}/more",
        f"/cloudsite/{STACK}/oneoff/../DJANGO_SECRET_KEY",
        f"cloudsite/{STACK}/oneoff/{rid}",
    ):
        assert not admits(spec, other), other


def test_every_accepted_value_is_one_shell_word_that_expands_to_itself(
    documents: dict[str, Json],
) -> None:
    """What the Session document relies on: it pastes the values into its command line."""
    for name, values in good_values().items():
        for value in values:
            assert admits(documents["session"]["parameters"][name], value)
            assert shlex.split(value) == ([value] if value else [])
            assert not set(value) & set("$`\\'\"*?[]{}()<>|&;~# \t\n")


# ------------------------------------------------------------------ the scripts, run for real


def recorder(tmp_path: Path, variables: Iterable[str] = ()) -> Path:
    """A stand-in for manage.sh: writes each of `variables` it got (by default the
    CLOUDSITE_MANAGE_* ones), NUL-ended."""
    record = tmp_path / "record"
    script = tmp_path / "manage.sh"
    names = " ".join(sorted(variables or {*EXPORTED.values(), "CLOUDSITE_MANAGE_INTERACTIVE"}))
    script.write_text(
        "#!/bin/sh\n"
        f"for n in {names}; do\n"
        '  eval "set=\\${$n+x}"\n'
        f'  [ -n "$set" ] && eval "printf \'%s=%s\\\\0\' $n \\"\\$$n\\"" >> {record}\n'
        "done\n"
        "exit 0\n"
    )
    script.chmod(0o755)
    return script


def recorded(tmp_path: Path) -> dict[str, str]:
    text = (tmp_path / "record").read_text() if (tmp_path / "record").exists() else ""
    return dict(item.split("=", 1) for item in text.split("\0") if item)


def command_script(documents: dict[str, Json], stand_in: Path) -> str:
    (step,) = documents["command"]["mainSteps"]
    assert (step["action"], step["name"]) == ("aws:runShellScript", "manage")
    assert step["inputs"]["timeoutSeconds"] == "{{ executionTimeout }}"
    lines = step["inputs"]["runCommand"]
    assert sum(SCRIPT in line for line in lines) == 1
    return "\n".join(lines).replace(SCRIPT, str(stand_in)) + "\n"


def test_the_command_script_never_pastes_a_parameter_into_its_text(
    documents: dict[str, Json],
) -> None:
    (step,) = documents["command"]["mainSteps"]
    assert "{{" not in "\n".join(step["inputs"]["runCommand"])
    assert step["inputs"]["runCommand"][-1] == f"exec {SCRIPT}"


HOSTILE_VALUES = {
    "arguments": "$(touch pwned-args)",
    "runId": "`touch pwned-run`; touch pwned-run2",
    "secretParameter": "' \"; touch pwned-param #\n$HOME {{ runId }}",
    "timeout": "${IFS}touch${IFS}pwned-timeout|| true &",
}


@pytest.mark.parametrize("shell", ["sh", "bash"])
@pytest.mark.parametrize("kind", ["ordinary", "hostile"])
def test_the_command_script_passes_each_value_through_unchanged(
    documents: dict[str, Json], tmp_path: Path, shell: str, kind: str
) -> None:
    """aws:runShellScript writes runCommand to a file and runs it with sh; the values arrive
    as SSM_<name>. Whatever they hold reaches manage.sh byte for byte and runs nothing."""
    script = tmp_path / "_script.sh"
    script.write_text(command_script(documents, recorder(tmp_path)))
    good = {name: values[-1] for name, values in good_values().items()}
    values = HOSTILE_VALUES if kind == "hostile" else good
    env = {"PATH": "/usr/bin:/bin", **{f"SSM_{n}": v for n, v in values.items()}}
    result = subprocess.run(
        [shell, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert recorded(tmp_path) == {EXPORTED[n]: v for n, v in values.items() if n in EXPORTED}
    assert not list(tmp_path.glob("pwned*"))


def test_the_command_script_refuses_an_agent_that_passes_no_environment(
    documents: dict[str, Json], tmp_path: Path
) -> None:
    script = tmp_path / "_script.sh"
    script.write_text(command_script(documents, recorder(tmp_path)))
    result = subprocess.run(
        ["sh", str(script)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "SSM Agent 3.3.2746.0 or later" in result.stderr
    assert recorded(tmp_path) == {}


def test_the_session_runs_the_same_script_as_root_with_a_terminal(
    documents: dict[str, Json], tmp_path: Path
) -> None:
    linux = documents["session"]["properties"]["linux"]
    assert linux["runAsElevated"] is True
    pasted = set(re.findall(r"\{\{ *(\w+) *\}\}", linux["commands"]))
    assert pasted == set(EXPORTED)  # executionTimeout is Run Command's alone
    good = {name: values[-1] for name, values in good_values().items()}
    good["secretParameter"] = ""  # an empty value must stay an (empty) assignment
    line = re.sub(r"\{\{ *(\w+) *\}\}", lambda m: good[m[1]], linux["commands"])
    line = line.replace(SCRIPT, str(recorder(tmp_path)))
    result = subprocess.run(
        ["sh", "-c", line], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    expected = {EXPORTED[n]: good[n] for n in EXPORTED}
    assert recorded(tmp_path) == {**expected, "CLOUDSITE_MANAGE_INTERACTIVE": "1"}


# ------------------------------------------------------------------ the operator's policy


def resources(statement: Json, rendered: Rendered) -> list[str]:
    return [str(sub(r, rendered)) for r in as_list(statement.get("Resource", []))]


def operator(stack: Rendered) -> dict[str, Json]:
    return {s["Sid"]: s for r, s in policy_statements(stack) if r == "OperatorPolicy"}


def test_the_operator_policy_is_a_managed_policy_named_in_the_outputs(stack: Rendered) -> None:
    assert stack.resources["OperatorPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert stack.outputs["OperatorPolicyArn"]["Value"] == {"Ref": "OperatorPolicy"}
    assert stack.outputs["ManageDocumentName"]["Value"] == {"Ref": "ManageDocument"}
    assert stack.outputs["ManageSessionDocumentName"]["Value"] == {"Ref": "ManageSessionDocument"}
    assert stack.outputs["ManageLogGroupName"]["Value"] == {"Ref": "ManageLogGroup"}
    props = stack.props("OperatorPolicy")
    assert not {"Roles", "Users", "Groups"} & set(props)  # attached by the operator, not here


@pytest.mark.parametrize(
    ("action", "document"),
    [("ssm:SendCommand", "ManageDocument"), ("ssm:StartSession", "ManageSessionDocument")],
)
def test_commands_and_sessions_only_with_our_document_on_our_instances(
    stack: Rendered, action: str, document: str
) -> None:
    granting = {sid: s for sid, s in operator(stack).items() if action in as_list(s["Action"])}
    prefix = f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/"
    documents = [r for s in granting.values() for r in resources(s, stack) if ":document/" in r]
    assert documents == [prefix + "${" + document + "}"]
    instances = [
        (s, r) for s in granting.values() for r in resources(s, stack) if ":instance/" in r
    ]
    assert [r for _, r in instances] == [f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"]
    ((statement, _),) = instances
    # The tag every instance of the group carries, with this stack's name.
    assert statement["Condition"] == {
        "StringEquals": {"ssm:resourceTag/cloudsite:stack": {"Ref": "AWS::StackName"}}
    }
    tags = stack.props("LaunchTemplate")["LaunchTemplateData"]["TagSpecifications"]
    (instance,) = [t for t in tags if t["ResourceType"] == "instance"]
    assert {"Key": "cloudsite:stack", "Value": {"Ref": "AWS::StackName"}} in instance["Tags"]
    for s in granting.values():  # nothing else: no other resource, no wildcard
        assert all(":document/" in r or ":instance/" in r for r in resources(s, stack))


def test_one_off_secrets_are_written_only_under_the_one_off_path(stack: Rendered) -> None:
    path = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/cloudsite/{STACK}/oneoff/*"
    for statement in operator(stack).values():
        actions = as_list(statement["Action"])
        if any("Parameter" in a for a in actions):
            assert set(actions) == {"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter"}
            assert resources(statement, stack) == [path]


def test_the_operator_reads_only_the_manage_logs_and_its_own_stack(stack: Rendered) -> None:
    for statement in operator(stack).values():
        actions = as_list(statement["Action"])
        if any(a.startswith("logs:") for a in actions):
            assert statement["Resource"] == {"Fn::GetAtt": ["ManageLogGroup", "Arn"]}
            assert not [
                a for a in actions if not a.startswith(("logs:Get", "logs:Filter", "logs:Describe"))
            ]
        if "cloudformation:DescribeStacks" in actions:
            assert statement["Resource"] == {"Ref": "AWS::StackId"}


def test_the_operator_ends_only_sessions_it_started(stack: Rendered) -> None:
    (statement,) = [s for s in operator(stack).values() if "ssm:TerminateSession" in s["Action"]]
    assert statement["Condition"] == {
        "StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": ["${aws:userid}"]}
    }


def test_the_operator_gets_exactly_the_actions_cloudsite_manage_calls(stack: Rendered) -> None:
    actions = {a for s in operator(stack).values() for a in as_list(s["Action"])}
    assert actions == {
        "ssm:SendCommand",
        "ssm:StartSession",
        "ssm:GetCommandInvocation",
        "ssm:ListCommandInvocations",
        "ssm:CancelCommand",
        "ssm:TerminateSession",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:GetParameter",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "logs:DescribeLogStreams",
        "cloudformation:DescribeStacks",
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    }
    for statement in operator(stack).values():
        assert statement["Effect"] == "Allow"
        if "*" in resources(statement, stack):  # test_iam.py holds the list of these
            assert all(
                a.split(":")[1].startswith(("Describe", "Get", "List", "Cancel"))
                for a in as_list(statement["Action"])
            )


# ------------------------------------------------------------------ the instance role


def allowed(rendered: Rendered, action: str, arn: str) -> bool:
    """IAM's answer for the instance role's inline policy: an explicit Deny wins, then any
    Allow (AmazonSSMManagedInstanceCore allows ssm:GetParameter* on "*": counted as an Allow)."""
    statements = [s for r, s in policy_statements(rendered) if r == "InstanceRole"]

    def matches(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(arn, p) for p in patterns)

    for s in statements:
        if s["Effect"] == "Deny" and action in as_list(s["Action"]):
            if "NotResource" in s and not matches(
                [str(sub(r, rendered)) for r in s["NotResource"]]
            ):
                return False
            if "Resource" in s and matches(resources(s, rendered)):
                return False
    managed_core = action.startswith("ssm:GetParameter")
    return managed_core or any(
        s["Effect"] == "Allow"
        and action in as_list(s["Action"])
        and matches(resources(s, rendered))
        for s in statements
    )


def test_the_instances_read_this_runs_one_off_parameter_and_no_other_stacks(
    stack: Rendered,
) -> None:
    parameter = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/cloudsite/{STACK}/oneoff/{run_id()}"
    other = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/cloudsite/other/oneoff/{run_id()}"
    assert allowed(stack, "ssm:GetParameter", parameter)
    assert not allowed(stack, "ssm:GetParameter", other)
    assert not allowed(stack, "ssm:PutParameter", parameter)


def test_the_instance_role_gained_only_the_manage_log_writes(stack: Rendered) -> None:
    statements = {s["Sid"]: s for r, s in policy_statements(stack) if r == "InstanceRole"}
    assert statements["WriteManageLogs"]["Resource"] == {"Fn::GetAtt": ["ManageLogGroup", "Arn"]}
    assert set(statements["WriteManageLogs"]["Action"]) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    }
    assert statements["FindManageLogGroup"]["Action"] == "logs:DescribeLogGroups"
    assert resources(statements["FindManageLogGroup"], stack) == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"
    ]
    # Nothing else of issue 22 reached the instances: no Run Command, no session, no writes
    # to parameters, and its ssm: actions are the settings reads it had before.
    actions = {a for s in statements.values() for a in as_list(s["Action"])}
    assert {a for a in actions if a.startswith("ssm:")} == {
        "ssm:GetParametersByPath",
        "ssm:GetParameters",
        "ssm:GetParameter",
    }
    assert {a for a in actions if a.startswith("logs:")} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:DescribeLogGroups",
    }
    managed = stack.props("InstanceRole")["ManagedPolicyArns"]
    assert managed == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    ]


def test_the_manage_log_group_is_kept_like_the_others(template: Json) -> None:
    group, app = template["Resources"]["ManageLogGroup"], template["Resources"]["AppLogGroup"]
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": "/cloudsite/${AWS::StackName}/manage"}
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for key in ("DeletionPolicy", "UpdateReplacePolicy", "Metadata"):
        assert group[key] == app[key]


# ------------------------------------------------------------------ in the emulator


@pytest.mark.usefixtures("live")
def test_the_stack_outputs_name_real_documents_and_the_log_group(
    session: Any, live: Any, documents: dict[str, Json]
) -> None:
    """moto's server creates the documents from the template (tests/support/moto_models.py,
    SsmDocument): the outputs name them, and they hold what the template wrote."""
    ssm, logs = session.client("ssm"), session.client("logs")
    for output, kind, key in (
        ("ManageDocumentName", "Command", "command"),
        ("ManageSessionDocumentName", "Session", "session"),
    ):
        name = live.outputs[output]
        assert name.startswith(f"{live.name}-")
        described = ssm.describe_document(Name=name)["Document"]
        assert described["DocumentType"] == kind
        stored = json.loads(ssm.get_document(Name=name)["Content"])
        expected = json.loads(json.dumps(documents[key]).replace(f"/{STACK}/", f"/{live.name}/"))
        assert stored == expected
    group = live.outputs["ManageLogGroupName"]
    assert group == f"/cloudsite/{live.name}/manage"
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in found] == [group]
    iam = session.client("iam")
    policy = iam.get_policy(PolicyArn=live.outputs["OperatorPolicyArn"])["Policy"]
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
    text = json.dumps(version["PolicyVersion"]["Document"])
    assert f"document/{live.outputs['ManageDocumentName']}" in text
    assert f"parameter/cloudsite/{live.name}/oneoff/*" in text
