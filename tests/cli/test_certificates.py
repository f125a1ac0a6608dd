"""Certificates against moto: the self-signed one imported, reused and deleted; the
DNS-validated one requested, validated through Route 53 records, and cleaned up."""

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from cloudsite import config
from cloudsite.aws import Aws
from cloudsite.aws.certs import certificate_obtain, certificates_delete, certificates_owned
from cloudsite.errors import CertificateError
from cloudsite.ui import Ui
from tests.cli.stubs import FakeClock

pytestmark = pytest.mark.emulator
STACK = "wanderpage"


@pytest.fixture
def cfg(tmp_path: Path, aws: str) -> config.Config:
    path = tmp_path / "cloudsite.toml"
    path.write_text(f'name = "{STACK}"\nregion = "us-east-1"\n')
    return config.load(path=path, env={}, overrides={})


def session() -> Aws:
    return Aws(session=boto3.Session(), region="us-east-1", account="123456789012")


def ui() -> Ui:
    return Ui(out=io.StringIO(), err=io.StringIO(), interactive=False)


def validation_records(zone: str) -> list[Any]:
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone)[
        "ResourceRecordSets"
    ]
    return [r for r in sets if r["Type"] == "CNAME"]


def test_self_signed_is_imported_once_reused_and_deleted(cfg: config.Config) -> None:
    aws, out = session(), ui()
    first = certificate_obtain(aws, cfg, stack=STACK, ui=out, clock=FakeClock())
    second = certificate_obtain(aws, cfg, stack=STACK, ui=out, clock=FakeClock())
    assert first.kind == "self-signed" and second.arn == first.arn
    described = boto3.client("acm").describe_certificate(CertificateArn=first.arn)["Certificate"]
    assert described["Type"] == "IMPORTED"
    assert "*.us-east-1.elb.amazonaws.com" in described["SubjectAlternativeNames"]
    err = out.err.getvalue()  # type: ignore[attr-defined]
    assert err.count("browsers will warn") == 2
    assert certificates_delete(aws, STACK, ui=out) == [first.arn]
    assert boto3.client("acm").list_certificates()["CertificateSummaryList"] == []


def test_a_given_certificate_arn_is_used_as_it_is(cfg: config.Config) -> None:
    from datetime import UTC, datetime

    from cloudsite.aws.selfsigned import self_signed_create

    pair = self_signed_create("theirs", region="us-east-1", now=datetime.now(UTC))
    arn = boto3.client("acm").import_certificate(
        Certificate=pair.certificate_pem, PrivateKey=pair.private_key_pem
    )["CertificateArn"]
    got = certificate_obtain(
        session(), replace(cfg, certificate_arn=arn), stack=STACK, ui=ui(), clock=FakeClock()
    )
    assert (got.arn, got.kind) == (arn, "given")
    assert [
        c["CertificateArn"]
        for c in boto3.client("acm").list_certificates()["CertificateSummaryList"]
    ] == [arn]
    assert certificates_owned(boto3.client("acm"), STACK) == []  # not ours: down leaves it


def test_a_given_certificate_that_does_not_exist_is_an_error_before_the_stack(
    cfg: config.Config,
) -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    with pytest.raises(CertificateError) as caught:
        certificate_obtain(
            session(), replace(cfg, certificate_arn=arn), stack=STACK, ui=ui(), clock=FakeClock()
        )
    assert caught.value.what == "certificate_arn"
    assert caught.value.why == f"{arn} does not exist in this account and region"


def test_a_domain_gets_a_dns_validated_certificate_and_down_removes_its_records(
    cfg: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto.settings

    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)  # ACM validates at once
    zone = boto3.client("route53").create_hosted_zone(Name="example.com.", CallerReference="t")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    aws, out = session(), ui()
    got = certificate_obtain(
        aws, replace(cfg, domain="www.example.com"), stack=STACK, ui=out, clock=FakeClock()
    )
    assert got.kind == "requested" and got.hosted_zone_id == zone_id  # the zone was looked up
    described = boto3.client("acm").describe_certificate(CertificateArn=got.arn)["Certificate"]
    assert described["Status"] == "ISSUED" and described["DomainName"] == "www.example.com"
    [record] = validation_records(zone_id)
    expected = described["DomainValidationOptions"][0]["ResourceRecord"]
    assert record["Name"].rstrip(".") == expected["Name"].rstrip(".")
    assert [owned.kind for owned in certificates_owned(boto3.client("acm"), STACK)] == ["requested"]
    certificates_delete(aws, STACK, ui=out)
    assert validation_records(zone_id) == []
    assert boto3.client("acm").list_certificates()["CertificateSummaryList"] == []


def test_a_domain_without_a_hosted_zone_is_an_error_naming_it(cfg: config.Config) -> None:
    with pytest.raises(CertificateError) as caught:
        certificate_obtain(
            session(),
            replace(cfg, domain="www.nowhere.org"),
            stack=STACK,
            ui=ui(),
            clock=FakeClock(),
        )
    assert caught.value.what == "domain www.nowhere.org"
    assert caught.value.why == "no public Route 53 hosted zone holds it"
