"""TLS checks: which protocol versions the edge accepts, and the certificate it presents.

The certificate gets two lines that never overlap: `certificate` (chain and hostname, with
dates ignored) and `expiry` (dates only). An expired certificate therefore fails one line.
"""

import datetime as dt
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cloudsite.verify.model import Check, failed, passed, warned
from cloudsite.verify.net import Site, client_context, handshake

# (check id, label, version, must the edge accept it?)
VERSIONS = (
    ("tls-1.0", "TLS 1.0", ssl.TLSVersion.TLSv1, False),
    ("tls-1.1", "TLS 1.1", ssl.TLSVersion.TLSv1_1, False),
    ("tls-1.2", "TLS 1.2", ssl.TLSVersion.TLSv1_2, True),
    ("tls-1.3", "TLS 1.3", ssl.TLSVersion.TLSv1_3, True),
)
EXPIRY_WARNING_DAYS = 30
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h): verify the chain and the name, not the dates.
_NO_CHECK_TIME = 0x200000
# X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT and X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
_SELF_SIGNED = {18, 19}


def version_check(
    site: Site, *, check_id: str, label: str, version: ssl.TLSVersion, wanted: bool
) -> Check:
    """Offer exactly one protocol version; a failed handshake means the edge refused it."""
    try:
        _, cipher, _ = handshake(site, client_context(version=version))
    except ssl.SSLError:
        if wanted:
            return failed(
                check_id, label, "refused", hint=f"enable {label} in the listener's TLS policy"
            )
        return passed(check_id, label, "refused")
    except ConnectionError as exc:
        return failed(check_id, label, f"not tested: {exc}", hint="check the HTTPS listener")
    if wanted:
        return passed(check_id, label, f"accepted ({cipher})")
    return failed(
        check_id,
        label,
        f"accepted ({cipher})",
        hint="use a TLS policy that allows only TLS 1.2 and 1.3 (tls_policy in the config)",
    )


def certificate_checks(
    site: Site, *, ca_file: Path | None = None, now: dt.datetime | None = None
) -> list[Check]:
    """[certificate, expiry]: the chain and hostname, then the days left."""
    try:
        _, _, der = handshake(site, client_context())
    except (ssl.SSLError, ConnectionError) as exc:
        hint = "check the HTTPS listener and its certificate"
        return [
            failed("certificate", "certificate", f"not read: {exc}", hint=hint),
            failed("expiry", "certificate expiry", "not read", hint=hint),
        ]
    leaf = x509.load_der_x509_certificate(der)
    return [chain_check(site, leaf=leaf, ca_file=ca_file), expiry_check(leaf, now=now)]


def chain_check(site: Site, *, leaf: x509.Certificate, ca_file: Path | None) -> Check:
    """Let OpenSSL verify the chain against the system's CAs (and ca_file), and the name."""
    error = _verify(site, cadata=None, ca_file=ca_file)
    issuer = _common_name(leaf.issuer)
    if error is None:
        return passed("certificate", "certificate", f"valid for {site.host}, issued by {issuer}")
    code, message = error
    if code in _SELF_SIGNED:
        # Trust the certificate itself, so the hostname is still checked.
        pem = leaf.public_bytes(Encoding.PEM)
        again = _verify(site, cadata=pem.decode(), ca_file=ca_file)
        if again is None:
            return warned(
                "certificate",
                "certificate",
                f"self-signed, for {site.host}",
                hint="browsers will warn: no public CA vouches for it; configure a domain "
                "so ACM can issue a trusted certificate",
            )
        code, message = again
    return failed(
        "certificate",
        "certificate",
        _explain(code, message, leaf=leaf, host=site.host),
        hint="the listener serves the wrong certificate; check certificate_arn or the domain",
    )


def expiry_check(leaf: x509.Certificate, *, now: dt.datetime | None = None) -> Check:
    now = now or dt.datetime.now(dt.UTC)
    end, start = leaf.not_valid_after_utc, leaf.not_valid_before_utc
    label, hint = "certificate expiry", "renew or re-import the certificate (ACM renews its own)"
    if now < start:
        return failed("expiry", label, f"not valid until {start:%Y-%m-%d}", hint=hint)
    days = (end - now).days
    if now >= end:
        ago = (now - end).days
        return failed("expiry", label, f"expired {_days(ago)} ago ({end:%Y-%m-%d})", hint=hint)
    value = f"{_days(days)} left (until {end:%Y-%m-%d})"
    if days < EXPIRY_WARNING_DAYS:
        return warned("expiry", label, value, hint=hint)
    return passed("expiry", label, value)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _verify(site: Site, *, cadata: str | None, ca_file: Path | None) -> tuple[int, str] | None:
    context = client_context(verify=True)
    context.load_default_certs()
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    if cadata:
        context.load_verify_locations(cadata=cadata)
    context.verify_flags |= _NO_CHECK_TIME
    try:
        handshake(site, context)
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_code, exc.verify_message
    except ssl.SSLError as exc:
        return -1, f"handshake failed ({exc.reason or exc})"
    except ConnectionError as exc:
        return -1, str(exc)
    return None


def _explain(code: int, message: str, *, leaf: x509.Certificate, host: str) -> str:
    # X509_V_ERR_HOSTNAME_MISMATCH: say which names the certificate does cover.
    if code == 62:
        return f"not valid for {host} (it covers {', '.join(_names(leaf)) or 'no names'})"
    return f"{message} (issued by {_common_name(leaf.issuer)})"


def _names(leaf: x509.Certificate) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [_common_name(leaf.subject)]
    return [str(n) for n in san.get_values_for_type(x509.DNSName)]


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string() or "(no name)"
