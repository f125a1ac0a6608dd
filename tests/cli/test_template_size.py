"""Templates over CloudFormation's 51,200-byte inline limit: minified when that is enough,
otherwise sent through S3. The minifier's parse is checked against cfn-lint's decoder."""

import json
from typing import Any

import pytest

from cloudsite import template
from cloudsite.template import TEMPLATE_BODY_MAX, template_argument, template_minify, template_parse

RESOURCE = """
  # ---------------------------------------------------------------- bucket {i}
  # A comment that minification drops. {padding}
  Bucket{i}:
    Type: AWS::S3::Bucket
    Condition: HasName
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketName: !Sub "${{AWS::StackName}}-bucket-{i}"
      Tags:
        - Key: cloudsite:stack
          Value: !Ref AWS::StackName
        - Key: zone
          Value: !Select [0, !GetAZs ""]
        - Key: arn
          Value: !GetAtt Topic.TopicArn
        - Key: mode
          Value: !If [HasName, !Join ["-", [a, !Ref Name]], !Ref AWS::NoValue]
      NotificationConfiguration:
        TopicConfigurations:
          - Event: "s3:ObjectCreated:*"
            Topic: !Ref Topic
"""
HEAD = """AWSTemplateFormatVersion: "2010-09-09"
Description: >
  A synthetic template with every kind of short tag.
Parameters:
  Name:
    Type: String
    Default: ""
Conditions:
  HasName: !Not [!Equals [!Ref Name, ""]]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: |
        multi
        line
"""


def synthetic(count: int, *, padding: int = 0) -> str:
    body = "".join(RESOURCE.format(i=i, padding="x" * padding) for i in range(count))
    return HEAD + body


def cfn_lint_view(text: str) -> Any:
    import importlib

    decode = importlib.import_module("cfnlint.decode")  # a dev tool, untyped
    decoded, matches = decode.decode_str(text)
    assert not matches
    return json.loads(json.dumps(decoded))


def test_short_tags_expand_exactly_as_cfn_lint_reads_them() -> None:
    text = synthetic(3)
    assert template_parse(text) == cfn_lint_view(text)
    assert json.loads(template_minify(text)) == cfn_lint_view(text)


def test_the_format_version_stays_a_string() -> None:
    assert template_parse(synthetic(1))["AWSTemplateFormatVersion"] == "2010-09-09"


def test_a_small_template_is_sent_inline_as_written() -> None:
    text = synthetic(2)
    argument, how = template_argument(text, upload=lambda body, key: pytest.fail("no upload"))
    assert (argument, how) == ({"TemplateBody": text}, "inline")


def test_a_large_template_that_minifies_under_the_limit_is_sent_minified() -> None:
    text = synthetic(60, padding=400)  # comments make up most of it
    assert len(text.encode()) > TEMPLATE_BODY_MAX
    argument, how = template_argument(text, upload=lambda body, key: pytest.fail("no upload"))
    assert how == "minified"
    assert len(argument["TemplateBody"].encode()) <= TEMPLATE_BODY_MAX
    assert json.loads(argument["TemplateBody"]) == cfn_lint_view(text)


def test_a_template_too_large_even_minified_goes_through_s3() -> None:
    text = synthetic(200)
    uploads: list[tuple[bytes, str]] = []

    def upload(body: bytes, key: str) -> str:
        uploads.append((body, key))
        return f"https://bucket.s3.us-east-1.amazonaws.com/{key}"

    argument, how = template_argument(text, upload=upload)
    assert how == "s3"
    [(body, key)] = uploads
    assert len(body) > TEMPLATE_BODY_MAX
    assert json.loads(body) == cfn_lint_view(text)
    assert key.startswith("templates/") and key.endswith(".json")
    assert argument == {"TemplateURL": f"https://bucket.s3.us-east-1.amazonaws.com/{key}"}


def test_parameters_are_checked_against_the_templates_own_constraints() -> None:
    from cloudsite.errors import ConfigError

    declared = {
        "Parameters": {
            "TlsPolicy": {
                "Type": "String",
                "AllowedValues": ["ELBSecurityPolicy-TLS13-1-2-2021-06"],
            },
            "SshCidrs": {"Type": "CommaDelimitedList", "AllowedPattern": r"\d+\.\d+\.\d+\.\d+/\d+"},
            "MinSize": {"Type": "Number", "MinValue": 1, "MaxValue": 10},
        }
    }
    ok = [
        {"ParameterKey": "TlsPolicy", "ParameterValue": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
        {"ParameterKey": "SshCidrs", "ParameterValue": "10.0.0.0/8,192.168.1.0/24"},
    ]
    template.parameters_check(ok, declared)
    with pytest.raises(ConfigError) as caught:
        template.parameters_check(
            [{"ParameterKey": "TlsPolicy", "ParameterValue": "Old"}], declared
        )
    assert caught.value.what == "tls_policy"
    assert "'Old' is not one of ELBSecurityPolicy-TLS13-1-2-2021-06" in caught.value.why
    with pytest.raises(ConfigError) as caught:
        template.parameters_check([{"ParameterKey": "MinSize", "ParameterValue": "0"}], declared)
    assert caught.value.what == "min_size"
    assert "'0' is below 1" in caught.value.why
