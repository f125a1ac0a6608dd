"""Grades a page's response headers, cookies and scripts the way the MDN HTTP Observatory does.

Source: "HTTP Observatory: Tests and scoring",
https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring, which publishes the
method: every site starts at 100; the penalties are deducted; only if the result is still 90
or more are the bonuses added; the grade follows the chart (100+ is A+, 90-99 A, ...). Each
test below returns one of the results that page lists, with its published modifier. The
reference implementation (github.com/mdn/mdn-http-observatory, src/analyzer/tests/*.js)
settles the details the prose leaves open; the comments say where.

Two departures, both because this is one check among others in `cloudsite verify`:
- HSTS preloading is not looked up (that needs Chromium's preload list, which is online);
  a preloaded site scores 5 points less here than on the Observatory, never more.
- The certificate and the HTTP redirect have checks of their own, so the grade assumes the
  certificate verified and the redirect went to HTTPS on the same host (both 0 points) unless
  told otherwise. One fault then fails one line of the checklist, not three.
"""

from dataclasses import dataclass
from html.parser import HTMLParser

from cloudsite.verify import cookies, csp, sri
from cloudsite.verify.net import header_values
from cloudsite.verify.scoring import TestResult, letter

MINIMUM_FOR_BONUS = 90
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Page:
    """What the Observatory looks at: the site's home page fetched over HTTPS.

    `headers` are the final response's; `set_cookies` every Set-Cookie seen on the way
    (redirects included); `origin` the Origin header the request carried (for CORS)."""

    headers: tuple[tuple[str, str], ...]
    body: str = ""
    set_cookies: tuple[str, ...] = ()
    https: bool = True
    host: str = ""
    origin: str = ""

    def values(self, name: str) -> list[str]:
        return header_values(self.headers, name)

    def first(self, name: str) -> str | None:
        return next(iter(self.values(name)), None)


@dataclass(frozen=True)
class Grade:
    score: int
    grade: str
    results: tuple[TestResult, ...]

    def result(self, test: str) -> TestResult:
        return next(r for r in self.results if r.test == test)

    def penalties(self) -> list[TestResult]:
        return [r for r in self.results if r.modifier < 0]


def grade(page: Page, *, redirection: str = "redirection-to-https", verified: bool = True) -> Grade:
    """Run the ten tests the published page lists (the best possible score is 145) and score
    them: penalties first, bonuses only from 90 up."""
    html = _Html.parse(page) if _is_html(page) else None
    csp_result = _csp(page, html)
    hsts = _hsts(page, verified=verified)
    results = (
        TestResult("content-security-policy", csp_result.result, csp_result.passed),
        cookies.evaluate(page.set_cookies, hsts_passed=hsts.passed),
        _cors(page),
        TestResult("redirection", redirection, redirection == "redirection-to-https"),
        _referrer(page, html),
        hsts,
        _sri(page, html),
        _nosniff(page),
        _frame_options(page, csp_result),
        _corp(page, html),
    )
    penalties = sum(min(r.modifier, 0) for r in results)
    bonuses = sum(max(r.modifier, 0) for r in results)
    score = 100 + penalties
    if score >= MINIMUM_FOR_BONUS:
        score += bonuses
    score = max(score, 0)
    return Grade(score, letter(score), results)


def _is_html(page: Page) -> bool:
    mime = (page.first("Content-Type") or "").split(";")[0].strip().lower()
    return not mime or mime in HTML_TYPES


class _Html(HTMLParser):
    """The <meta http-equiv> values and <script> tags of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.equiv: dict[str, list[str]] = {}
        self.scripts: list[dict[str, str | None]] = []

    @classmethod
    def parse(cls, page: Page) -> "_Html":
        parser = cls()
        parser.feed(page.body)
        parser.close()
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("http-equiv") and found.get("content") is not None:
            name = str(found["http-equiv"]).lower()
            self.equiv.setdefault(name, []).append(str(found["content"]))
        elif tag == "script":
            self.scripts.append(found)

    def meta(self, name: str) -> list[str]:
        return self.equiv.get(name, [])


def _csp(page: Page, html: _Html | None) -> csp.CspResult:
    return csp.evaluate(
        page.values("Content-Security-Policy"),
        html.meta("content-security-policy") if html else [],
        https=page.https,
        report_only=bool(page.first("Content-Security-Policy-Report-Only")),
    )


# HSTS: 15768000 s is six months, but the reference implementation accepts 15552000 (180 days).
SIX_MONTHS = 15_552_000


def _hsts(page: Page, *, verified: bool) -> TestResult:
    name = "strict-transport-security"
    header = page.first("Strict-Transport-Security")
    if not page.https:
        return TestResult(name, "hsts-not-implemented-no-https", False)
    if not verified:
        return TestResult(name, "hsts-invalid-cert", False)
    if header is None:
        return TestResult(name, "hsts-not-implemented", False)
    max_age = None
    for part in (p.strip().lower() for p in header.split(";")):
        if part.startswith("max-age="):
            digits = part[8:].strip().strip('"')
            max_age = int(digits) if digits.isdigit() else None
    if "," in header or max_age is None:  # set twice, or no usable max-age
        return TestResult(name, "hsts-header-invalid", False)
    if max_age < SIX_MONTHS:
        return TestResult(name, "hsts-implemented-max-age-less-than-six-months", False)
    return TestResult(name, "hsts-implemented-max-age-at-least-six-months", True)


def _cors(page: Page) -> TestResult:
    name = "cross-origin-resource-sharing"
    allowed = page.first("Access-Control-Allow-Origin")
    if not allowed:
        return TestResult(name, "cross-origin-resource-sharing-not-implemented", True)
    allowed = allowed[:256].strip().lower()
    credentials = (page.first("Access-Control-Allow-Credentials") or "").strip().lower()
    if allowed == "*":
        return TestResult(
            name, "cross-origin-resource-sharing-implemented-with-public-access", True
        )
    if page.origin and allowed == page.origin.lower() and credentials == "true":
        # It reflects an arbitrary origin and allows credentials: any site can act as the user.
        return TestResult(
            name, "cross-origin-resource-sharing-implemented-with-universal-access", False
        )
    return TestResult(
        name, "cross-origin-resource-sharing-implemented-with-restricted-access", True
    )


REFERRER_PRIVATE = (
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
)
REFERRER_UNSAFE = ("origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade")


def _referrer(page: Page, html: _Html | None) -> TestResult:
    name = "referrer-policy"
    values = page.values("Referrer-Policy") + (html.meta("referrer-policy") if html else [])
    if not values:
        return TestResult(name, "referrer-policy-not-implemented", True)
    # The last policy a browser recognises wins; a meta tag comes after the header.
    known = [
        p.strip().lower()
        for p in ", ".join(values).split(",")
        if p.strip().lower() in REFERRER_PRIVATE + REFERRER_UNSAFE
    ]
    policy = known[-1] if known else ""
    if policy in REFERRER_PRIVATE:
        return TestResult(name, "referrer-policy-private", True)
    if policy in REFERRER_UNSAFE:
        return TestResult(name, "referrer-policy-unsafe", False)
    return TestResult(name, "referrer-policy-header-invalid", False)


def _nosniff(page: Page) -> TestResult:
    name = "x-content-type-options"
    header = page.first("X-Content-Type-Options")
    if header is None:
        return TestResult(name, "x-content-type-options-not-implemented", False)
    if header[:256].strip().lower() == "nosniff":
        return TestResult(name, "x-content-type-options-nosniff", True)
    return TestResult(name, "x-content-type-options-header-invalid", False)


def _frame_options(page: Page, csp_result: csp.CspResult) -> TestResult:
    name = "x-frame-options"
    if "frame-ancestors" in csp_result.header_directives:
        return TestResult(name, "x-frame-options-implemented-via-csp", True)
    header = (page.first("X-Frame-Options") or "").strip().lower()
    if not header:
        return TestResult(name, "x-frame-options-not-implemented", False)
    if header in {"deny", "sameorigin"}:
        return TestResult(name, "x-frame-options-sameorigin-or-deny", True)
    if header.startswith("allow-from"):
        return TestResult(name, "x-frame-options-allow-from-origin", True)
    return TestResult(name, "x-frame-options-header-invalid", False)


def _corp(page: Page, html: _Html | None) -> TestResult:
    name = "cross-origin-resource-policy"
    metas = html.meta("cross-origin-resource-policy") if html else []
    value = page.first("Cross-Origin-Resource-Policy") or (metas[-1] if metas else None)
    if value is None:
        return TestResult(name, "corp-not-implemented", True)
    result = {
        "same-origin": "corp-implemented-with-same-origin",
        "same-site": "corp-implemented-with-same-site",
        "cross-origin": "corp-implemented-with-cross-origin",
    }.get(value[:256].strip().lower(), "corp-header-invalid")
    return TestResult(name, result, result != "corp-header-invalid")


def _sri(page: Page, html: _Html | None) -> TestResult:
    if html is None:
        return TestResult("subresource-integrity", "sri-not-implemented-response-not-html", True)
    result, passed = sri.evaluate(html.scripts, host=page.host, https=page.https)
    return TestResult("subresource-integrity", result, passed)
