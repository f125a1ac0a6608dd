"""The self-signed certificate, and the smoke check verifying a site against it over real TLS
(a local HTTPS server presents it under a load balancer's name)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cloudsite.aws.selfsigned import KeyPair, needs_renewal, self_signed_create
from cloudsite.aws.smoke import smoke_check
from cloudsite.errors import SmokeCheckFailed
from cloudsite.ui import Ui
from tests.cli.conftest import https_site
from tests.cli.stubs import FakeClock

NOW = datetime.now(UTC).replace(microsecond=0)  # real time: TLS checks validity against it


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return self_signed_create("wanderpage", region="us-east-1", now=NOW)


def test_the_certificate_covers_the_regions_load_balancer_names(pair: KeyPair) -> None:
    cert = x509.load_pem_x509_certificate(pair.certificate_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [
        "*.us-east-1.elb.amazonaws.com",
        "wanderpage.cloudsite.invalid",
    ]
    assert cert.issuer == cert.subject
    assert cert.not_valid_after_utc - NOW == timedelta(days=365)
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca is False
    key = load_pem_private_key(pair.private_key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


def test_the_private_key_never_shows_in_a_repr(pair: KeyPair) -> None:
    assert "PRIVATE" not in repr(pair)


def test_renewal_is_due_within_thirty_days_of_expiry() -> None:
    assert needs_renewal(NOW + timedelta(days=29), now=NOW)
    assert not needs_renewal(NOW + timedelta(days=31), now=NOW)


def quiet() -> Ui:
    import io

    return Ui(out=io.StringIO(), err=io.StringIO(), interactive=False)


def test_smoke_check_passes_when_the_site_presents_the_trusted_certificate(
    pair: KeyPair, tmp_path: Path, resolve_to_loopback: None
) -> None:
    with https_site(pair, tmp_path) as url:
        smoke_check(
            url, cadata=pair.certificate_pem.decode(), ui=quiet(), clock=FakeClock(), timeout=10
        )


def test_smoke_check_fails_when_the_certificate_is_not_the_trusted_one(
    pair: KeyPair, tmp_path: Path, resolve_to_loopback: None
) -> None:
    other = self_signed_create("other", region="us-east-1", now=NOW)
    with https_site(other, tmp_path) as url, pytest.raises(SmokeCheckFailed) as caught:
        smoke_check(
            url, cadata=pair.certificate_pem.decode(), ui=quiet(), clock=FakeClock(), timeout=10
        )
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.why


def test_smoke_check_fails_when_readiness_never_passes(
    pair: KeyPair, tmp_path: Path, resolve_to_loopback: None
) -> None:
    clock = FakeClock()
    with https_site(pair, tmp_path, ready=503) as url, pytest.raises(SmokeCheckFailed) as caught:
        smoke_check(url, cadata=pair.certificate_pem.decode(), ui=quiet(), clock=clock, timeout=10)
    assert caught.value.why == "/readyz answered 503"
    assert clock.t >= 10  # it kept trying for the whole (bounded) wait
