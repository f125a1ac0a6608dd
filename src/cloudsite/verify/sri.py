"""The Subresource Integrity part of the MDN HTTP Observatory's scoring.

Source: https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring, with the
reference implementation (github.com/mdn/mdn-http-observatory,
src/analyzer/tests/subresource-integrity.js) for what counts as "the same origin": a relative
URL, or an absolute one on the same registrable domain. The Observatory finds registrable
domains with the Public Suffix List; without it (verify works offline) the last two labels
of the name stand in, which only differs for hosts under multi-label suffixes such as co.uk.
"""

import re
from urllib.parse import urlsplit

# Results from best to worst; a page gets the worst any of its scripts earns.
ORDER = (
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
)
PASSING = {
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-not-implemented-response-not-html",
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
    "sri-not-implemented-but-no-scripts-loaded",
}
_PROTOCOL_RELATIVE = re.compile(r"^//[^/]")
_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)


def registrable(host: str) -> str:
    labels = host.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def _script_result(src: str, *, integrity: bool, host: str, https: bool) -> tuple[str | None, bool]:
    """(the result one script earns or None, whether it comes from the page's own origin)."""
    relative_protocol = bool(_PROTOCOL_RELATIVE.match(src))
    absolute = bool(_ABSOLUTE.match(src))
    relative = not relative_protocol and not absolute
    same_domain = (
        relative
        or relative_protocol
        or (registrable(urlsplit(src).hostname or "") == registrable(host))
    )
    same_origin = relative or (same_domain and not relative_protocol)
    secure = (absolute and src.lower().startswith("https://")) or (relative and https)
    if same_origin:
        bonus = "sri-implemented-and-all-scripts-loaded-securely" if integrity and secure else None
        return bonus, True
    if integrity and not secure:
        return "sri-implemented-but-external-scripts-not-loaded-securely", False
    if not integrity:
        if secure:
            return "sri-not-implemented-but-external-scripts-loaded-securely", False
        return "sri-not-implemented-and-external-scripts-not-loaded-securely", False
    return None, False


def evaluate(scripts: list[dict[str, str | None]], *, host: str, https: bool) -> tuple[str, bool]:
    """(result, passed) for the <script> tags of an HTML page."""
    if not scripts:
        return "sri-not-implemented-but-no-scripts-loaded", True
    result: str | None = None
    foreign = False
    for script in scripts:
        src = (script.get("src") or "").strip()
        if not src:
            continue
        integrity = bool(script.get("integrity"))
        found, local = _script_result(src, integrity=integrity, host=host, https=https)
        foreign = foreign or not local
        if found == ORDER[0]:
            result = result or found  # a same-origin script with SRI earns the bonus only first
        elif found and (result is None or ORDER.index(found) > ORDER.index(result)):
            result = found
    if result is None:
        result = (
            "sri-implemented-and-external-scripts-loaded-securely"
            if foreign
            else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
        )
    return result, result in PASSING
