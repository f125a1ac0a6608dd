"""The production response headers, from the application gunicorn serves (the runtime layer's
front around Wanderpage): HSTS, cookies, framing, sniffing, referrer, and the CSP that
cloudsite.toml names."""

import re
import tomllib
from pathlib import Path

import pytest

from tests.site.production import SITE, fetch


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> dict:
    return fetch(tmp_path_factory.mktemp("home"), [("/", True)], static_root=production_static)[0]


def test_plain_http_redirects_to_https_permanently(tmp_path: Path, production_static: Path) -> None:
    [response] = fetch(tmp_path, [("/destinations/?page=2", False)], static_root=production_static)
    assert response["status"] == 301
    assert response["headers"]["Location"] == "https://www.example.com/destinations/?page=2"


def test_hsts_is_at_least_a_year(home: dict) -> None:
    hsts = home["headers"]["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
    assert max_age >= 31536000
    assert "includeSubDomains" in hsts


def test_framing_sniffing_and_referrer_headers(home: dict) -> None:
    headers = home["headers"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_csp_has_no_unsafe_inline_or_eval(home: dict) -> None:
    csp = home["headers"]["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_csp_is_the_one_cloudsite_toml_names(home: dict) -> None:
    configured = tomllib.loads((SITE / "cloudsite.toml").read_text())["content_security_policy"]
    assert home["headers"]["Content-Security-Policy"] == configured


def test_cookies_are_secure_and_httponly(tmp_path: Path, production_static: Path) -> None:
    [login] = fetch(tmp_path, [("/admin/login/", True)], static_root=production_static)
    assert login["cookies"], "the admin login page sets the CSRF cookie"
    for name, cookie in login["cookies"].items():
        assert name.startswith("__Host-")
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
