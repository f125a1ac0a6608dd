"""A DNS-validated ACM certificate for `domain`, with its validation records in Route 53."""

from typing import Any

from cloudsite import names
from cloudsite.aws import Aws
from cloudsite.aws.acm import (
    REQUESTED,
    ZONE_TAG,
    Certificate,
    Owned,
    certificates_owned,
)
from cloudsite.aws.waits import Clock, Deadline
from cloudsite.config import Config
from cloudsite.errors import CertificateError
from cloudsite.outputs import STACK_TAG
from cloudsite.ui import Ui


def zone_find(route53: Any, domain: str) -> str:
    """The public hosted zone that holds `domain`: the longest zone name it ends with."""
    best, best_len = "", -1
    wanted = domain.rstrip(".") + "."
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            name = zone["Name"]
            private = zone.get("Config", {}).get("PrivateZone", False)
            matches = wanted == name or wanted.endswith("." + name)
            if matches and not private and len(name) > best_len:
                best, best_len = zone["Id"].rsplit("/", 1)[-1], len(name)
    if not best:
        raise CertificateError(
            f"domain {domain}",
            "no public Route 53 hosted zone holds it",
            hint="create a hosted zone for it (and delegate to it), or set certificate_arn",
        )
    return best


def certificate_request(aws: Aws, cfg: Config, *, stack: str, ui: Ui, clock: Clock) -> Certificate:
    """Request (or reuse) the certificate, create its validation records, wait until issued.

    1. find the hosted zone (configured, or looked up from the domain);
    2. reuse a certificate an earlier run requested, or request one;
    3. UPSERT the CNAME records ACM asks for;
    4. wait, bounded by certificate_timeout_minutes.
    """
    acm, route53 = aws.client("acm"), aws.client("route53")
    zone = cfg.hosted_zone_id or zone_find(route53, cfg.domain)
    reusable = [
        c
        for c in certificates_owned(acm, stack)
        if c.kind == REQUESTED
        and c.domain == cfg.domain
        and c.status in {"ISSUED", "PENDING_VALIDATION"}
    ]
    if reusable:
        arn = reusable[0].arn
        ui.info(f"certificate: {arn} for {cfg.domain} (requested earlier)")
    else:
        arn = acm.request_certificate(
            DomainName=cfg.domain,
            ValidationMethod="DNS",
            Tags=[
                {"Key": STACK_TAG, "Value": stack},
                {"Key": names.certificate_kind_tag(), "Value": REQUESTED},
                {"Key": ZONE_TAG, "Value": zone},
            ],
        )["CertificateArn"]
        ui.info(f"certificate: requested {arn} for {cfg.domain}, validated through DNS")
    records = _validation_records(acm, arn, clock=clock, ui=ui)
    _records_change(route53, zone, records, action="UPSERT")
    wait_issued(
        acm, arn, clock=clock, timeout=cfg.certificate_timeout_minutes * 60, ui=ui, zone=zone
    )
    ui.done(f"certificate for {cfg.domain} is issued")
    return Certificate(arn=arn, kind=REQUESTED, hosted_zone_id=zone)


def _validation_records(acm: Any, arn: str, *, clock: Clock, ui: Ui) -> list[dict[str, str]]:
    """The CNAME records ACM asks for; they appear a few seconds after the request."""
    deadline = Deadline(clock, 120, "validation records", hint="rerun cloudsite up")
    with ui.waiting("waiting for ACM's validation records", timeout=120) as wait:
        while True:
            described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            options = described.get("DomainValidationOptions", [])
            records = [o["ResourceRecord"] for o in options if "ResourceRecord" in o]
            if options and len(records) == len(options):
                return _unique(records)
            wait.status("not yet published")
            deadline.check()
            clock.sleep(min(clock.poll, 3))


def _unique(records: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, result = set(), []
    for record in records:
        if record["Name"] not in seen:
            seen.add(record["Name"])
            result.append(record)
    return result


def _records_change(route53: Any, zone: str, records: list[dict[str, str]], *, action: str) -> None:
    changes = [
        {
            "Action": action,
            "ResourceRecordSet": {
                "Name": record["Name"],
                "Type": record["Type"],
                "TTL": 300,
                "ResourceRecords": [{"Value": record["Value"]}],
            },
        }
        for record in records
    ]
    if changes:
        route53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={"Comment": "cloudsite: ACM validation", "Changes": changes},
        )


def validation_records_delete(aws: Aws, owned: Owned, *, ui: Ui) -> None:
    """Remove the validation CNAMEs cloudsite created for a certificate it requested."""
    import botocore.exceptions

    described = aws.client("acm").describe_certificate(CertificateArn=owned.arn)["Certificate"]
    options = described.get("DomainValidationOptions", [])
    records = _unique([o["ResourceRecord"] for o in options if "ResourceRecord" in o])
    try:
        _records_change(aws.client("route53"), owned.zone, records, action="DELETE")
    except botocore.exceptions.ClientError as err:
        if "not found" not in str(err):  # already removed by hand
            raise
    for record in records:
        ui.info(f"deleted validation record {record['Name']}")


def wait_issued(acm: Any, arn: str, *, clock: Clock, timeout: float, ui: Ui, zone: str) -> None:
    """Wait (bounded) until ACM has validated and issued the certificate."""
    deadline = Deadline(
        clock,
        timeout,
        f"certificate {arn}",
        hint=f"ACM validates once the zone {zone} is the one your domain's registrar delegates "
        "to (its NS records); check that, then rerun cloudsite up",
    )
    with ui.waiting("waiting for ACM to validate the certificate", timeout=timeout) as wait:
        while True:
            status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
            wait.status(status)
            if status == "ISSUED":
                return
            if status not in ("PENDING_VALIDATION",):
                raise CertificateError(
                    f"certificate {arn}", f"ACM says {status}", hint="see the ACM console"
                )
            deadline.check(status)
            clock.sleep(clock.poll)
