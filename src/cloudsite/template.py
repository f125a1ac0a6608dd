"""The CloudFormation template as the CLI sends it, and the parameters the configuration makes.

CloudFormation takes at most 51,200 bytes inline (TemplateBody). A larger template is sent
minified (parsed, CloudFormation's short tags expanded, re-serialised as compact JSON); if even
that is too large, it goes to an S3 bucket of the stack's own and CloudFormation reads it from
there (TemplateURL, up to 1 MB).
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any, Final

from cloudsite import names
from cloudsite.config import Config
from cloudsite.errors import ConfigError
from cloudsite.outputs import STACK_TAG, Param
from cloudsite.project.background import Choice

TEMPLATE_BODY_MAX: Final = 51_200
TEMPLATE_URL_MAX: Final = 1_000_000
AMI_PARAMETERS: Final = {
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
}
# The configuration's source modes, as the template's SourceMode parameter names them.
SOURCE_MODES: Final = {"upload": "s3", "github": "github"}
# No background work: what stack_parameters assumes when it is not told the choice.
NO_BACKGROUND: Final = Choice(broker="none", redis=False, why="")
# The stop grace: the queue hides a task this much longer than it may run, more than a deploy
# gives a stopping worker to finish it (the hooks' CLOUDSITE_STOP_TIMEOUT, 30 s by default),
# so that a task finished while its worker stops is never delivered again.
TASK_STOP_GRACE: Final = 60
# Which configuration key each template parameter comes from, so that a value the template
# refuses is reported against the key the user wrote.
PARAM_KEYS: Final = {
    Param.TLS_POLICY: "tls_policy",
    Param.ALLOWED_CLIENT_CIDRS: "allowed_cidrs",
    Param.SSH_CIDRS: "ssh_cidrs",
    Param.INSTANCE_TYPE: "instance_type",
    Param.AMI_PARAMETER: "instance_type",
    Param.MIN_SIZE: "min_size",
    Param.MAX_SIZE: "max_size",
    Param.DESIRED_CAPACITY: "desired_capacity",
    Param.SCALING_CPU_TARGET: "scaling_cpu_percent",
    Param.SCALING_REQUESTS_PER_TARGET: "scaling_requests_per_instance",
    Param.VPC_ID: "vpc_id",
    Param.PUBLIC_SUBNET_IDS: "public_subnet_ids",
    Param.PRIVATE_SUBNET_IDS: "private_subnet_ids",
    Param.USE_PRIVATE_SUBNETS: "private_subnets",
    Param.DELETION_PROTECTION: "deletion_protection",
    Param.DOMAIN_NAME: "domain",
    Param.HOSTED_ZONE_ID: "hosted_zone_id",
    Param.ALARM_EMAIL: "alarm_email",
    Param.SOURCE_MODE: "source_mode",
    Param.CONNECTION_ARN: "github_connection_arn",
    Param.GITHUB_REPOSITORY: "github_repository",
    Param.GITHUB_BRANCH: "github_branch",
    Param.ENABLE_DATABASE: "database",
    # Its value is the `media` key as resolved for the project (stack_parameters' media), not
    # the key itself ("auto", "s3", "none").
    Param.ENABLE_MEDIA: "media",
    Param.DATABASE_INSTANCE_CLASS: "database_instance_class",
    # TaskBroker and EnableRedis are the broker and Valkey server as resolved for the project
    # (stack_parameters' background), EnableSchedules whether [schedule] has entries.
    Param.TASK_BROKER: "broker",
    Param.ENABLE_REDIS: "redis",
    Param.ENABLE_SCHEDULES: "schedule",
    Param.REDIS_NODE_TYPE: "redis_node_type",
    Param.TASK_TIMEOUT_SECONDS: "task_timeout_seconds",
    Param.TASK_VISIBILITY_TIMEOUT: "task_timeout_seconds",
    Param.LOG_RETENTION_DAYS: "log_retention_days",
    Param.APP_PORT: "app_port",
    Param.CERTIFICATE_ARN: "certificate_arn",
}


def template_text() -> str:
    """The template exactly as shipped in the package (what `cloudsite template` prints)."""
    return (resources.files("cloudsite") / "templates" / "stack.yaml").read_text(encoding="utf-8")


def architecture(instance_type: str) -> str:
    """arm64 for Graviton families (a 'g' after the generation digit: t4g, m7g, c7gn)."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.match(r"^[a-z]+\d+g[a-z]*$", family) else "x86_64"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(value)
    return str(value)


def stack_parameters(
    cfg: Config,
    *,
    certificate_arn: str,
    hosted_zone_id: str,
    ssh_cidrs: tuple[str, ...],
    media: bool = False,
    media_bucket: str = "",
    database_snapshot: str = "",
    background: Choice = NO_BACKGROUND,
) -> list[dict[str, str]]:
    """Every template parameter, as CloudFormation takes them. Pure: no AWS call.

    The keyword arguments are what the configuration alone cannot say: the certificate and
    hosted zone found or made, the SSH blocks resolved, whether the site keeps its uploads in
    S3, the data an earlier `cloudsite down` kept (a media bucket's name, a DB snapshot's
    identifier or ARN; empty for none), and the broker and Valkey server chosen for the
    project (project.checks.background)."""
    given: dict[str, Any] = {
        Param.CERTIFICATE_ARN: certificate_arn,
        Param.HOSTED_ZONE_ID: hosted_zone_id,
        Param.SSH_CIDRS: ssh_cidrs,
        Param.ENABLE_MEDIA: media,
        Param.MEDIA_BUCKET_NAME: media_bucket,
        Param.DATABASE_SNAPSHOT: database_snapshot,
        Param.TASK_BROKER: background.broker,
        Param.ENABLE_REDIS: background.redis,
        Param.ENABLE_SCHEDULES: bool(cfg.schedule),
        Param.TASK_VISIBILITY_TIMEOUT: cfg.task_timeout_seconds + TASK_STOP_GRACE,
    }
    values: dict[str, Any] = {
        key: getattr(cfg, name) for key, name in PARAM_KEYS.items() if key not in given
    }
    values.update(given)
    values[Param.AMI_PARAMETER] = AMI_PARAMETERS[architecture(cfg.instance_type)]
    values[Param.SOURCE_MODE] = SOURCE_MODES[cfg.source_mode]
    return [{"ParameterKey": key, "ParameterValue": _text(values[key])} for key in sorted(values)]


def stack_tags(stack: str) -> list[dict[str, str]]:
    """Stack-level tags; CloudFormation copies them onto every resource that takes tags."""
    return [{"Key": STACK_TAG, "Value": stack}]


def parameters_check(params: list[dict[str, str]], template: dict[str, Any]) -> None:
    """Check each value against the constraints the template declares, before any AWS call,
    so a refused value is reported against its configuration key and not by CloudFormation."""
    declared = template.get("Parameters", {})
    for item in params:
        key, value = item["ParameterKey"], item["ParameterValue"]
        spec = declared.get(key)
        if spec is None:
            continue
        parts = value.split(",") if "List" in str(spec.get("Type", "")) and value else [value]
        for part in parts:
            problem = _constraint_problem(part, spec)
            if problem:
                config_key = PARAM_KEYS.get(key, key)
                raise ConfigError(
                    config_key,
                    f"{part!r} {problem} (template parameter {key})",
                    hint=str(spec.get("ConstraintDescription") or spec.get("Description", "")),
                )


def _constraint_problem(value: str, spec: dict[str, Any]) -> str | None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_text(v) for v in allowed]:
        return "is not one of " + ", ".join(_text(v) for v in allowed)
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"does not match {pattern}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"is longer than {spec['MaxLength']} characters"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"is shorter than {spec['MinLength']} characters"
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"is below {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"is above {spec['MaxValue']}"
    return None


@functools.lru_cache(maxsize=4)
def _parsed(text: str) -> str:
    """The template parsed once per text, kept as JSON (callers get their own copy)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10x faster

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    # CloudFormation reads `2010-09-09` as a string, not a date.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_multi_constructor("!", _short_tag)
    parsed = yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader (or CSafeLoader) subclass
    if not isinstance(parsed, dict):
        raise ValueError("the template is not a mapping")
    return json.dumps(parsed, ensure_ascii=False)


def template_parse(text: str) -> dict[str, Any]:
    """Parse a template (YAML or JSON), expanding short tags: `!Ref X` -> {"Ref": "X"}."""
    return dict(json.loads(_parsed(text)))


def _short_tag(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


def template_minify(text: str) -> str:
    """The same template as compact JSON (no comments, no indentation)."""
    return json.dumps(template_parse(text), separators=(",", ":"), ensure_ascii=False)


def template_argument(
    text: str, *, upload: Callable[[bytes, str], str]
) -> tuple[dict[str, str], str]:
    """The TemplateBody or TemplateURL argument for `text`, and how it is sent
    ('inline', 'minified' or 's3'). `upload(body, key)` stores a body and returns its URL."""
    if len(text.encode()) <= TEMPLATE_BODY_MAX:
        return {"TemplateBody": text}, "inline"
    small = template_minify(text)
    body = small.encode()
    if len(body) <= TEMPLATE_BODY_MAX:
        return {"TemplateBody": small}, "minified"
    if len(body) > TEMPLATE_URL_MAX:
        raise ValueError(f"the template is {len(body)} bytes; CloudFormation takes 1 MB at most")
    key = names.template_key(hashlib.sha256(body).hexdigest())
    return {"TemplateURL": upload(body, key)}, "s3"
