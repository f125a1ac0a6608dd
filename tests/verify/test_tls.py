"""Days to expiry, read from the certificate: a warning under 30 days, a failure once expired
or before the certificate is valid at all."""

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from cloudsite.verify import Status
from cloudsite.verify.tls import expiry_check
from tests.verify.pki import make_pki


@pytest.fixture(scope="module")
def leaf(tmp_path_factory: pytest.TempPathFactory) -> x509.Certificate:
    pki = make_pki(tmp_path_factory.mktemp("pki"), host="a.example", wrong_host="b.example")
    return x509.load_pem_x509_certificate(Path(pki.good).read_bytes())


@pytest.mark.parametrize(
    ("days_before_end", "status", "value"),
    [
        (83, Status.PASS, "83 days left"),
        (30, Status.PASS, "30 days left"),
        (29.5, Status.WARN, "29 days left"),
        (1, Status.WARN, "1 day left"),
        (-3, Status.FAIL, "expired 3 days ago"),
    ],
)
def test_days_to_expiry(
    leaf: x509.Certificate, days_before_end: float, status: Status, value: str
) -> None:
    now = leaf.not_valid_after_utc - dt.timedelta(days=days_before_end)
    check = expiry_check(leaf, now=now)
    assert (check.status, check.value.split(" (")[0]) == (status, value)


def test_a_certificate_not_yet_valid_fails(leaf: x509.Certificate) -> None:
    check = expiry_check(leaf, now=leaf.not_valid_before_utc - dt.timedelta(hours=1))
    assert check.status is Status.FAIL
    assert check.value.startswith("not valid until ")
