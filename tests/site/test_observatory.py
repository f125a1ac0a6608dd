"""The production response headers (Wanderpage's own, and the runtime layer's front with the CSP
from cloudsite.toml) earn A+ under the MDN HTTP Observatory's published scoring, graded by
cloudsite verify's own grader (src/cloudsite/verify/observatory.py)."""

from pathlib import Path

import pytest

from cloudsite.verify.observatory import Page, grade
from tests.site.production import fetch


def _page(response: dict) -> Page:
    """A Page from fetch()'s response: its headers and its cookies, as Set-Cookie lines."""
    set_cookies = tuple(
        "; ".join(
            [f"{name}={cookie['value']}"]
            + (["Secure"] if cookie.get("secure") else [])
            + (["HttpOnly"] if cookie.get("httponly") else [])
            + ([f"SameSite={cookie['samesite']}"] if cookie.get("samesite") else [])
        )
        for name, cookie in response["cookies"].items()
    )
    return Page(headers=tuple(response["headers"].items()), set_cookies=set_cookies)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> dict[str, Page]:
    home, login = fetch(
        tmp_path_factory.mktemp("observatory"),
        [("/", True), ("/admin/login/", True)],
        static_root=production_static,
    )
    assert home["status"] == login["status"] == 200
    return {"home": _page(home), "login": _page(login)}


def test_home_page_headers_earn_a_plus_with_every_header_bonus(pages: dict[str, Page]) -> None:
    result = grade(pages["home"])
    assert result.grade == "A+", [(r.result, r.modifier) for r in result.penalties()]
    assert result.penalties() == []
    assert result.score == 130  # 100 + CSP 10 + frame-ancestors 5 + referrer 5 + CORP 10


def test_login_page_cookies_earn_the_cookie_bonus_too(pages: dict[str, Page]) -> None:
    result = grade(pages["login"])
    assert result.grade == "A+"
    cookies = result.result("cookies")
    assert cookies.result == "cookies-secure-with-httponly-sessions-and-samesite"
    assert result.score == 135
