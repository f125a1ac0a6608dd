"""HTTP checks: the redirect from plain HTTP, the health probes, and the home page's headers
and cookies (graded with the MDN HTTP Observatory's scoring)."""

from urllib.parse import urljoin, urlsplit

from cloudsite.verify import cookies, observatory
from cloudsite.verify.model import Check, failed, passed, warned
from cloudsite.verify.net import Response, Site, get

# The example: a path and a query, both of which a correct redirect keeps.
REDIRECT_PROBE = "/some/path?q=1"
PERMANENT = (301, 308)
MAX_HOPS = 5
# A foreign origin for the CORS test: a site that reflects it and allows credentials fails.
FOREIGN_ORIGIN = "https://cloudsite-verify.invalid"


def redirect_check(site: Site) -> Check:
    label = "HTTP redirect"
    expected = f"https://{site.authority()}{REDIRECT_PROBE}"
    try:
        response = get(site, REDIRECT_PROBE, https=False)
    except ConnectionError as exc:
        return failed(
            "redirect",
            label,
            f"no answer over HTTP: {exc}",
            hint="add an HTTP listener on port 80 whose only action redirects to HTTPS",
        )
    status, location = response.status, response.header("Location") or ""
    if status not in PERMANENT:
        if 300 <= status < 400:
            return failed(
                "redirect",
                label,
                f"{status} (temporary) to {location}",
                hint="use a permanent redirect: 301 or 308",
            )
        return failed(
            "redirect",
            label,
            f"{status}: the site answers over plain HTTP",
            hint="make the HTTP listener redirect to HTTPS (301) instead of forwarding",
        )
    target = urljoin(f"http://{site.authority(https=False)}/", location)
    if not same_url(target, expected):
        return failed(
            "redirect",
            label,
            f"{status} to {target}, expected {expected}",
            hint="keep host, path and query: redirect to https://#{host}:443/#{path}?#{query}",
        )
    return passed("redirect", label, f"{status} to {target}")


def same_url(found: str, expected: str) -> bool:
    """Equal as URLs: the host compared without case, a missing port read as the default."""
    a, b = urlsplit(found), urlsplit(expected)
    default = {"https": 443, "http": 80}
    return (
        a.scheme == b.scheme
        and (a.hostname or "") == (b.hostname or "")
        and (a.port or default.get(a.scheme)) == (b.port or default.get(b.scheme))
        and (a.path or "/") == (b.path or "/")
        and a.query == b.query
    )


def health_check(site: Site, *, path: str) -> Check:
    check_id, label = path.strip("/"), f"{path} over HTTPS"
    hint = (
        "the app is up but not ready: check the database and the app log"
        if path == "/readyz"
        else "the app does not answer: check the target group and the app log"
    )
    try:
        response = get(site, path)
    except ConnectionError as exc:
        return failed(check_id, label, str(exc), hint=hint)
    took = f"in {response.elapsed * 1000:.0f} ms"
    if response.status != 200:
        first_line = response.body.decode(errors="replace").strip().splitlines()[:1]
        reason = f" ({first_line[0][:80]})" if first_line else ""
        return failed(check_id, label, f"{response.status}{reason} {took}", hint=hint)
    return passed(check_id, label, f"200 {took}")


def home_page(site: Site) -> tuple[Response, list[str]]:
    """GET / over HTTPS, following redirects on the same site; (final response, Set-Cookies)."""
    path, seen = "/", []
    for _ in range(MAX_HOPS):
        response = get(site, path, headers={"Origin": FOREIGN_ORIGIN})
        seen += response.header_all("Set-Cookie")
        location = response.header("Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response, seen
        target = urlsplit(urljoin(f"https://{site.authority()}/", location))
        if target.scheme != "https" or target.netloc.lower() != site.authority().lower():
            return response, seen
        path = target.path + (f"?{target.query}" if target.query else "")
    return response, seen


def page_checks(site: Site) -> list[Check]:
    """[headers, cookies] for the home page."""
    hint = "the home page must answer 200 over HTTPS; check the app log"
    try:
        response, set_cookies = home_page(site)
    except ConnectionError as exc:
        return [
            failed("headers", "security headers", str(exc), hint=hint),
            failed("cookies", "cookies", str(exc), hint=hint),
        ]
    return [headers_check(site, response, set_cookies), cookies_check(set_cookies)]


def headers_check(site: Site, response: Response, set_cookies: list[str]) -> Check:
    label = "security headers"
    # The Observatory grades a page that answers 2xx, 3xx, 401 or 403, and refuses others. A
    # 404 home page (a project with no / of its own, Django's startproject) is graded anyway
    # and said so; a 5xx is a failure.
    graded = 200 <= response.status < 400 or response.status in (401, 403)
    if not graded and response.status != 404:
        return failed(
            "headers",
            label,
            f"home page answered {response.status}",
            hint="the home page must answer (200, or 401/403 behind a login); check the app log",
        )
    page = observatory.Page(
        headers=response.headers,
        body=response.body.decode(errors="replace"),
        set_cookies=tuple(set_cookies),
        host=site.host,
        origin=FOREIGN_ORIGIN,
    )
    result = observatory.grade(page)
    value = f"{result.grade} (Observatory score {result.score})"
    penalties = result.penalties()
    lost = ", ".join(f"{r.result} {r.modifier:+d}" for r in penalties)
    # A Content-Security-Policy is the site's choice (content_security_policy): without one
    # the grade is reported, not failed; any other penalty fails.
    if [r.result for r in penalties] == ["csp-not-implemented"]:
        return warned(
            "headers",
            label,
            f"{value}: no Content-Security-Policy"
            + ("" if graded else " (graded on the 404 home page)"),
            hint="set content_security_policy in cloudsite.toml for A+ (a policy can break "
            "inline scripts: try it with `cloudsite local up` first)",
        )
    if result.grade != "A+":
        return failed(
            "headers",
            label,
            f"{value}: {lost}",
            hint="see docs/operations.md (security headers) for each result and its fix",
        )
    if not graded:
        return warned(
            "headers",
            label,
            f"{value}, graded on the 404 home page",
            hint="the Observatory grades only a home page that answers; give the site a /",
        )
    return passed("headers", label, value)


def cookies_check(set_cookies: list[str]) -> Check:
    """Fails on any cookie the Observatory's cookie test fails, even where the score forgives
    it: the Observatory docks a cookie without Secure only 5 points when HSTS is on, but
    HSTS does not cover a browser's first visit, so that cookie can still leak."""
    found = cookies.parse_all(set_cookies)
    if not found:
        return passed("cookies", "cookies", "none set on the home page")
    bad = {c.name: problems for c in found if (problems := cookies.problems(c))}
    if bad:
        listed = "; ".join(f"{name}: {', '.join(p)}" for name, p in bad.items())
        return failed(
            "cookies",
            "cookies",
            listed,
            hint="set Secure (and HttpOnly, SameSite=Lax) on every cookie, including the "
            "load balancer's own",
        )
    names = ", ".join(sorted({c.name for c in found}))
    return passed("cookies", "cookies", f"{len(found)} set ({names}), all Secure")
