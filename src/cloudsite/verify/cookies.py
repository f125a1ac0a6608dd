"""Cookies as the MDN HTTP Observatory grades them.

Source: https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring ("Cookies"),
with the reference implementation (github.com/mdn/mdn-http-observatory,
src/analyzer/tests/cookies.js) for what makes a cookie a session cookie (its name contains
"login" or "sess") or an anti-CSRF token (its name contains "csrf").
"""

from dataclasses import dataclass

from cloudsite.verify.scoring import TestResult

# Cookie results from best to worst; a page gets the worst any of its cookies earns.
_COOKIE_ORDER = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)


@dataclass(frozen=True)
class Cookie:
    name: str
    secure: bool
    httponly: bool
    samesite: str | None  # None when the attribute is absent; "" when it has no value

    @classmethod
    def parse(cls, header: str) -> "Cookie":
        first, *attributes = header.split(";")
        flags: dict[str, str | None] = {}
        for attribute in attributes:
            key, sep, value = attribute.strip().partition("=")
            flags[key.strip().lower()] = value.strip() if sep else None
        samesite = (flags["samesite"] or "") if "samesite" in flags else None
        return cls(
            first.partition("=")[0].strip(), "secure" in flags, "httponly" in flags, samesite
        )

    @property
    def is_session(self) -> bool:
        """The Observatory's test for a session or login cookie: its name."""
        return any(word in self.name.lower() for word in ("login", "sess"))


def cookie_faults(cookie: Cookie, *, hsts_passed: bool) -> list[str]:
    """The Observatory's cookie results that one cookie earns (empty when it is sound)."""
    faults = []
    samesite = cookie.samesite.lower() if cookie.samesite is not None else None
    if samesite is not None and samesite not in {"lax", "strict", "none"}:
        faults.append("cookies-samesite-flag-invalid")
    if samesite == "none" and not cookie.secure:
        faults.append("cookies-samesite-flag-invalid")
    if not cookie.secure:
        faults.append(
            "cookies-without-secure-flag-but-protected-by-hsts"
            if hsts_passed
            else "cookies-without-secure-flag"
        )
    if "csrf" in cookie.name.lower() and not samesite:
        faults.append("cookies-anticsrf-without-samesite-flag")
    if cookie.is_session and not cookie.secure:
        faults.append(
            "cookies-session-without-secure-flag-but-protected-by-hsts"
            if hsts_passed
            else "cookies-session-without-secure-flag"
        )
    if cookie.is_session and not cookie.httponly:
        faults.append("cookies-session-without-httponly-flag")
    return faults


def evaluate(set_cookies: tuple[str, ...], *, hsts_passed: bool) -> TestResult:
    """The Observatory's cookie test over every Set-Cookie header the page sent."""
    name = "cookies"
    cookies = parse_all(set_cookies)
    if not cookies:
        return TestResult(name, "cookies-not-found", True)
    faults = [f for c in cookies for f in cookie_faults(c, hsts_passed=hsts_passed)]
    if faults:
        return TestResult(name, max(faults, key=_COOKIE_ORDER.index), False)
    if all(c.samesite for c in cookies):
        return TestResult(name, "cookies-secure-with-httponly-sessions-and-samesite", True)
    return TestResult(name, "cookies-secure-with-httponly-sessions", True)


def parse_all(set_cookies: tuple[str, ...] | list[str]) -> list[Cookie]:
    return [Cookie.parse(c) for c in set_cookies if c.partition("=")[0].strip()]


def problems(cookie: Cookie) -> list[str]:
    """What is wrong with one cookie, in words, by the Observatory's cookie test."""
    words = {
        "cookies-without-secure-flag-but-protected-by-hsts": "no Secure flag",
        "cookies-without-secure-flag": "no Secure flag",
        "cookies-session-without-secure-flag-but-protected-by-hsts": "no Secure flag",
        "cookies-session-without-secure-flag": "no Secure flag",
        "cookies-samesite-flag-invalid": "invalid SameSite",
        "cookies-anticsrf-without-samesite-flag": "anti-CSRF token without SameSite",
        "cookies-session-without-httponly-flag": "session cookie without HttpOnly",
    }
    return list(dict.fromkeys(words[f] for f in cookie_faults(cookie, hsts_passed=True)))
