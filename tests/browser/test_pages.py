"""The site in headless Chromium (Debian's, driven by Playwright), served by gunicorn with the
production profile: each page renders with no console error, no CSP violation and no failed
request, and the screenshots land in test-artifacts/browser/.

The browser reaches gunicorn over plain HTTP but sends X-Forwarded-Proto: https, exactly what
the load balancer adds after terminating TLS. So the production settings run unchanged (no
SSL-redirect switch), and what is tested is the application the load balancer talks to.
"""

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

from tests.conftest import require
from tests.site.served import Served, gunicorn_site, manage
from tests.support.servers import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# Runs before any page script (through the DevTools protocol, so the CSP does not apply to
# it) and records every violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


@dataclass
class Visit:
    """Everything that went wrong while a page loaded, and what it fetched."""

    errors: list[str] = field(default_factory=list)
    fetched: list[tuple[str, int]] = field(default_factory=list)  # (url, bytes on the wire)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> Iterator[Served]:
    require(Path(CHROMIUM).exists(), "Debian's chromium (scripts/system-packages.sh)")
    workdir = tmp_path_factory.mktemp("browser")
    with gunicorn_site(workdir, static_root=production_static, trust_browser_origin=True) as served:
        yield served


@pytest.fixture(scope="module")
def browser(site: Served) -> Iterator[Browser]:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def visit(browser: Browser, url: str, *, shot: str, **context: Any) -> tuple[Page, Visit]:
    """Load url in a fresh context, wait for the network to settle, save a screenshot."""
    page = browser.new_context(
        extra_http_headers={"X-Forwarded-Proto": "https"}, **context
    ).new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    seen = Visit()
    page.on(
        "console", lambda m: seen.errors.append(f"console: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: seen.errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: seen.errors.append(f"failed: {r.url} {r.failure}"))
    page.on("requestfinished", lambda r: _finished(r, seen))
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200
    seen.errors += [f"CSP: {v}" for v in page.evaluate("window.__violations")]
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    return page, seen


def _finished(request: Request, seen: Visit) -> None:
    response = request.response()
    if response is None or response.status >= 400:
        seen.errors.append(f"HTTP {response and response.status}: {request.url}")
    sizes = request.sizes()
    seen.fetched.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))


def _hero_fetches(seen: Visit) -> list[str]:
    return [url for url, _ in seen.fetched if "/static/img/hero/" in url]


def test_home_renders_the_quote_over_the_preloaded_avif_hero(
    browser: Browser, site: Served
) -> None:
    page, seen = visit(
        browser, f"{site.url}/", shot="home", viewport={"width": 1280, "height": 720}
    )
    assert seen.errors == []
    assert "read only one page" in page.locator("blockquote").inner_text()
    hero = page.locator("img.hero-image")
    assert hero.evaluate("img => img.complete && img.naturalWidth > 0")
    assert ".avif" in hero.evaluate("img => img.currentSrc")
    # The preload and <picture> chose the same file: one hero download, not two.
    assert len(_hero_fetches(seen)) == 1
    # Everything the page needs, headers included, stays light.
    assert sum(size for _, size in seen.fetched) < 40_000, seen.fetched


def test_a_phone_gets_a_hero_wide_enough_for_its_cropped_cover(
    browser: Browser, site: Served
) -> None:
    # 412 x 823 CSS pixels at 1.75x: covering the height needs 178vh = 1465 CSS pixels wide.
    phone = {
        "viewport": {"width": 412, "height": 823},
        "device_scale_factor": 1.75,
        "is_mobile": True,
    }
    page, seen = visit(browser, f"{site.url}/", shot="home-phone", **phone)
    assert seen.errors == []
    assert "hero-2560" in page.locator("img.hero-image").evaluate("img => img.currentSrc")
    assert len(_hero_fetches(seen)) == 1


def test_destination_list_renders_every_destination(browser: Browser, site: Served) -> None:
    page, seen = visit(browser, f"{site.url}/destinations/", shot="destinations")
    assert seen.errors == []
    assert page.locator("h1").inner_text() == "Destinations"
    assert page.locator(".cards .card").count() == 8


def test_destination_detail_renders_from_the_list(browser: Browser, site: Served) -> None:
    page, seen = visit(browser, f"{site.url}/destinations/", shot="destinations-first")
    page.get_by_role("link", name="Kyoto").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "destination-kyoto.png"), full_page=True)
    assert page.url == f"{site.url}/destinations/kyoto/"
    assert page.locator("h1").inner_text() == "Kyoto"
    assert "Fushimi Inari" in page.locator("article").inner_text()
    seen.errors += [f"CSP: {v}" for v in page.evaluate("window.__violations")]
    assert seen.errors == []


def test_an_editor_signs_in_and_edits_a_destination_in_the_admin(
    browser: Browser, site: Served
) -> None:
    user, password = f"editor-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    env = {**site.env, "DJANGO_SUPERUSER_PASSWORD": password}
    manage(env, "createsuperuser", "--no-input", "--username", user, "--email", "e@example.com")
    page, seen = visit(browser, f"{site.url}/admin/login/", shot="admin-login")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{site.url}/admin/"
    page.get_by_role("link", name="Destinations").first.click()
    page.get_by_role("link", name="Kyoto").click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_summary", "Temples, moss gardens and tea houses on quiet lanes.")
    page.click("input[name=_save]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "admin-saved.png"), full_page=True)
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    # CSP violations on every admin page show as console errors, which `seen` collected.
    seen.errors += [f"CSP: {v}" for v in page.evaluate("window.__violations")]
    assert seen.errors == []
