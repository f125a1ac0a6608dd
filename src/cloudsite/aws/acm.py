"""The certificates cloudsite made for a stack, as ACM lists them: their kind and zone tags,
and the lookup by the stack tag. Both ways of obtaining one build on it (certs for the given
and self-signed ones, dnscert for the DNS-validated ones)."""

from dataclasses import dataclass
from typing import Any, Final

from cloudsite import names
from cloudsite.aws import error_code
from cloudsite.outputs import STACK_TAG

REQUESTED: Final = "requested"
ZONE_TAG: Final = "cloudsite:hosted-zone"


@dataclass(frozen=True)
class Certificate:
    arn: str
    kind: str  # given | requested | self-signed
    hosted_zone_id: str = ""


@dataclass(frozen=True)
class Owned:
    """A certificate cloudsite made for a stack (found by its tags)."""

    arn: str
    kind: str
    domain: str
    status: str
    zone: str


def certificates_owned(acm: Any, stack: str) -> list[Owned]:
    """Every ACM certificate tagged with the stack, whatever its status."""
    found = []
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page["CertificateSummaryList"]:
            arn = summary["CertificateArn"]
            tags = {t["Key"]: t.get("Value", "") for t in _tags(acm, arn)}
            if tags.get(STACK_TAG) == stack:
                found.append(
                    Owned(
                        arn=arn,
                        kind=tags.get(names.certificate_kind_tag(), ""),
                        domain=summary.get("DomainName", ""),
                        status=summary.get("Status", ""),
                        zone=tags.get(ZONE_TAG, ""),
                    )
                )
    return found


def _tags(acm: Any, arn: str) -> list[dict[str, str]]:
    import botocore.exceptions

    try:
        return list(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", []))
    except botocore.exceptions.ClientError as err:
        if error_code(err) == "ResourceNotFoundException":  # deleted while we listed
            return []
        raise
