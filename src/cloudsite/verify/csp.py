"""The Content Security Policy part of the MDN HTTP Observatory's scoring.

Source: "HTTP Observatory: Tests and scoring", https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring
(the published results and modifiers), read together with the reference implementation
github.com/mdn/mdn-http-observatory (src/analyzer/cspParser.js, src/analyzer/tests/csp.js),
which settles what the prose leaves open: which directives fall back to default-src, what
counts as "dangerously broad", and the order in which a policy's faults are ranked.
"""

from dataclasses import dataclass

BROAD = frozenset(
    {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
)
INLINE = frozenset({"'unsafe-inline'", "data:"})
PASSIVE = ("img-src", "media-src")
NONCE_OR_HASH = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
# Directives a <meta http-equiv> policy may not set (the HTML standard ignores them there).
HEADER_ONLY = ("frame-ancestors", "report-uri", "sandbox")
# The shortest policy the Observatory accepts is one character shorter than "img-src".
SHORTEST_POLICY = len("img-src") - 1
REPEATABLE = frozenset({"report-uri", "report-to"})

Policy = dict[str, set[str]]


class InvalidPolicy(ValueError):
    pass


@dataclass(frozen=True)
class CspResult:
    result: str
    passed: bool
    # The enforced directives from HTTP headers only: X-Frame-Options looks for frame-ancestors.
    header_directives: frozenset[str] = frozenset()


def parse(policies: list[str]) -> tuple[Policy, bool]:
    """Parse one or more policies into {directive: sources}; True when report-uri/report-to
    repeat (allowed, but reported). Several policies all apply, so a source must be allowed
    by each policy that names the directive (their intersection)."""
    merged: Policy = {}
    duplicates = False
    for index, text in enumerate(p.replace("\r", "").replace("\n", "").strip() for p in policies):
        if len(text) < SHORTEST_POLICY:
            raise InvalidPolicy(f"policy too short: {text!r}")
        seen: set[str] = set()
        for entry in text.split(";"):
            words = entry.split()
            if not words:
                continue
            directive, sources = words[0].lower(), {w.lower() for w in words[1:]}
            if directive in seen:
                if directive not in REPEATABLE:
                    raise InvalidPolicy(f"directive {directive} repeated")
                duplicates = True
                continue
            seen.add(directive)
            if not sources and directive.endswith("-src"):
                sources = {"'none'"}
            if index == 0 or directive not in merged:
                merged[directive] = sources if index == 0 else set()
            else:
                merged[directive] &= sources
    return {d: (s or {"'none'"}) for d, s in merged.items()}, duplicates


def split_policies(values: list[str]) -> list[str]:
    """Header values may carry several comma-separated policies (RFC 9110, CSP3 section 2.2)."""
    return [p.strip() for v in values for p in v.split(",")]


def evaluate(
    header_values: list[str], meta_values: list[str], *, https: bool, report_only: bool
) -> CspResult:
    """The Observatory's CSP test over the header and <meta http-equiv> policies."""
    headers, metas = split_policies(header_values), split_policies(meta_values)
    try:
        policy, duplicates = parse(headers + metas)
    except InvalidPolicy:
        return CspResult("csp-header-invalid", passed=False)
    header_only = _parse_or_empty(headers)
    meta_only = {d: s for d, s in _parse_or_empty(metas).items() if d not in HEADER_ONLY}
    if not header_only and not meta_only:
        name = "csp-not-implemented-but-reporting-enabled" if report_only else "csp-not-implemented"
        return CspResult(name, passed=False)
    result = _rank(policy, https=https)
    passed = result in {
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    }
    if passed and duplicates:
        result = "csp-implemented-but-duplicate-directives"
    return CspResult(result, passed=passed, header_directives=frozenset(header_only))


def _parse_or_empty(policies: list[str]) -> Policy:
    try:
        return parse(policies)[0] if policies else {}
    except InvalidPolicy:
        return {}


def _fallback(policy: Policy, directive: str) -> set[str]:
    return set(policy.get(directive) or policy.get("default-src") or {"*"})


def _rank(policy: Policy, *, https: bool) -> str:
    """The first fault in the Observatory's order of severity, or the best clean result."""
    script, style, objects = (
        _fallback(policy, d) for d in ("script-src", "style-src", "object-src")
    )
    for sources in (script, style):
        if sources & {"'unsafe-inline'"} and any(s.startswith(NONCE_OR_HASH) for s in sources):
            sources.discard("'unsafe-inline'")  # ignored by browsers when a nonce or hash is set
    if "'strict-dynamic'" in script:
        if not any(s.startswith(NONCE_OR_HASH) for s in script):
            return "csp-header-invalid"
        script = {
            s
            for s in script
            if not s.startswith(tuple(BROAD)) and s not in {"'self'", "'unsafe-inline'"}
        }
    active = [s for d, v in policy.items() if d not in PASSIVE and d != "script-src" for s in v]
    active += script
    passive = [s for d in PASSIVE for s in (policy.get(d) or policy.get("default-src") or set())]
    insecure = ("http:", "ftp:")
    if script & (BROAD | INLINE) or objects & BROAD:
        return "csp-implemented-with-unsafe-inline"
    if https and any(s.startswith(insecure) for s in active):
        return "csp-implemented-with-insecure-scheme"
    if "'unsafe-eval'" in script | style:
        return "csp-implemented-with-unsafe-eval"
    if https and any(s.startswith(insecure) for s in passive):
        return "csp-implemented-with-insecure-scheme-in-passive-content-only"
    if style & (BROAD | INLINE):
        return "csp-implemented-with-unsafe-inline-in-style-src-only"
    if policy.get("default-src") == {"'none'"}:
        return "csp-implemented-with-no-unsafe-default-src-none"
    return "csp-implemented-with-no-unsafe"
