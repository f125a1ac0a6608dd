"""verify against real TLS endpoints: HAProxy on loopback in front of the site on gunicorn.

One correct edge passes every check; each broken edge fails exactly the check it breaks.
"""

from dataclasses import replace

import pytest

from cloudsite.verify import Report, Status, verify_site
from tests.verify.conftest import HOST, RESOLVE
from tests.verify.edge import Edge, EdgeConfig
from tests.verify.pki import Pki

pytestmark = pytest.mark.network


def run(edge: Edge, pki: Pki, config: EdgeConfig) -> Report:
    edge.apply(config)
    return verify_site(
        edge.url, http_port=edge.http_port, resolve_overrides=RESOLVE, ca_file=pki.ca
    )


def test_correct_edge_passes_every_check_within_ten_seconds(edge: Edge, pki: Pki) -> None:
    report = run(edge, pki, EdgeConfig(cert=pki.good))
    assert [c.id for c in report.checks if c.status is not Status.PASS] == []
    assert report.elapsed < 10, f"a healthy site took {report.elapsed:.1f} s"
    value = {c.id: c.value for c in report.checks}
    assert value["dns"] == f"{HOST} -> 127.0.0.1"
    assert value["tls-1.0"] == value["tls-1.1"] == "refused"
    assert value["tls-1.2"].startswith("accepted (")
    assert value["tls-1.3"].startswith("accepted (TLS_")
    assert value["certificate"] == f"valid for {HOST}, issued by cloudsite test CA"
    assert value["expiry"].startswith("89 days left")
    assert value["redirect"] == f"301 to https://{HOST}:{edge.https_port}/some/path?q=1"
    assert value["healthz"].startswith("200 in ") and value["readyz"].startswith("200 in ")
    assert value["headers"].startswith("A+ (Observatory score ")
    assert value["cookies"] == "none set on the home page"


@pytest.fixture
def broken(pki: Pki, not_ready_port: int) -> dict[str, tuple[EdgeConfig, set[str]]]:
    good = EdgeConfig(cert=pki.good)
    return {
        "tls 1.0 enabled": (replace(good, tls10=True), {"tls-1.0"}),
        "no redirect": (replace(good, redirect="none"), {"redirect"}),
        "redirect drops the path": (replace(good, redirect="root"), {"redirect"}),
        "temporary redirect": (replace(good, redirect="temporary"), {"redirect"}),
        "cookie without Secure": (replace(good, insecure_cookie=True), {"cookies"}),
        "expired certificate": (replace(good, cert=pki.expired), {"expiry"}),
        "certificate for the wrong host": (replace(good, cert=pki.wrong_host), {"certificate"}),
        "/readyz failing": (replace(good, readyz_port=not_ready_port), {"readyz"}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "tls 1.0 enabled",
        "no redirect",
        "redirect drops the path",
        "temporary redirect",
        "cookie without Secure",
        "expired certificate",
        "certificate for the wrong host",
        "/readyz failing",
    ],
)
def test_each_broken_edge_fails_exactly_its_check(
    edge: Edge, pki: Pki, broken: dict[str, tuple[EdgeConfig, set[str]]], case: str
) -> None:
    config, expected = broken[case]
    report = run(edge, pki, config)
    assert report.failed_ids() == expected, [
        (c.id, c.value) for c in report.checks if c.status is Status.FAIL
    ]
    assert not report.ok


def test_a_missing_csp_is_a_warning_with_the_grade_since_the_policy_is_the_sites_choice(
    edge: Edge, pki: Pki
) -> None:
    """content_security_policy is opt-in (a policy can break a page's inline scripts): verify
    reports the grade either way, and fails only on the other headers."""
    report = run(edge, pki, EdgeConfig(cert=pki.good, drop_csp=True))
    assert report.ok
    headers = report.by_id("headers")
    assert headers.status is Status.WARN
    assert headers.value == "B (Observatory score 75): no Content-Security-Policy"
    assert "content_security_policy" in headers.hint


def test_a_self_signed_certificate_is_a_warning_with_the_reason(edge: Edge, pki: Pki) -> None:
    report = run(edge, pki, EdgeConfig(cert=pki.self_signed))
    assert report.ok
    assert [(c.id, c.status) for c in report.checks if c.status is not Status.PASS] == [
        ("certificate", Status.WARN)
    ]
    certificate = report.by_id("certificate")
    assert certificate.value == f"self-signed, for {HOST}"
    assert "no public CA vouches for it" in certificate.hint
