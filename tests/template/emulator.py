"""Deploying stack.yaml to moto's server: the parameters a test passes, and the deploy itself
with every warning moto logs captured (a warning means a resource was skipped or half-made)."""

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

import tests.support.moto_models  # noqa: F401  (registers the models before any stack exists)
from tests.template.cfn import TEMPLATE_PATH, load_template

# moto does not split a CommaDelimitedList's default, so every list parameter is passed.
LIST_PARAMETERS = {
    "AllowedClientCidrs": "0.0.0.0/0",
    "SshCidrs": "",
    "PublicSubnetIds": "",
    "PrivateSubnetIds": "",
}


@dataclass
class Deployed:
    name: str
    parameters: dict[str, str]
    status: str
    outputs: dict[str, str]
    warnings: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def moto_warnings() -> Iterator[list[str]]:
    """Everything moto warns about while the block runs (its server thread included)."""
    handler = _Collect()
    logger = logging.getLogger("moto")
    logger.addHandler(handler)
    found: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
        found += [str(w.message) for w in caught if "moto" in w.filename]
    finally:
        logger.removeHandler(handler)
        found += handler.messages


def certificate(session: boto3.Session) -> str:
    """An ACM certificate in the emulator, as the CLI provides one (moto checks it exists)."""
    acm = session.client("acm")
    return str(acm.request_certificate(DomainName="www.example.com")["CertificateArn"])


def deploy(session: boto3.Session, *, name: str, **overrides: str) -> Deployed:
    cfn = session.client("cloudformation")
    parameters = {**LIST_PARAMETERS, "CertificateArn": certificate(session), **overrides}
    # The template as the CLI sends it: minified JSON (docs/architecture.md). moto does not
    # enforce TemplateBody's 51,200-byte limit, so the body goes inline here.
    body = json.dumps(load_template(TEMPLATE_PATH), separators=(",", ":"))
    with moto_warnings() as found:
        cfn.create_stack(
            StackName=name,
            TemplateBody=body,
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[{"Key": "cloudsite:stack", "Value": name}],
        )
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Deployed(name, parameters, stack["StackStatus"], outputs, found)


def created_resources(session: boto3.Session, name: str) -> dict[str, Any]:
    """Logical id -> summary of what moto made (it also lists parameters with no id: dropped)."""
    summaries = session.client("cloudformation").list_stack_resources(StackName=name)
    return {
        r["LogicalResourceId"]: r
        for r in summaries["StackResourceSummaries"]
        if r["LogicalResourceId"]
    }


def delete_emptied(session: boto3.Session, live: Deployed) -> list[str]:
    """Empty the stack's buckets, as `cloudsite down` does first, and delete the stack;
    returns what moto warned about meanwhile."""
    s3 = session.resource("s3")
    for key in ("SourceBucketName", "ArtifactBucketName", "AccessLogBucketName"):
        s3.Bucket(live.outputs[key]).object_versions.delete()
    with moto_warnings() as found:
        session.client("cloudformation").delete_stack(StackName=live.name)
    return found
