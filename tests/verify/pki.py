"""A throwaway PKI for the TLS tests: a local CA and leaf certificates signed by it (valid,
for the wrong host, expired), plus a self-signed one. Keys are P-256 and never leave tmp."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA certificate, for --ca-bundle
    good: Path  # HAProxy crt files: certificate, chain and key in one PEM
    wrong_host: Path
    expired: Path
    self_signed: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(*items: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    out = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            out += item.public_bytes(serialization.Encoding.PEM)
        else:
            out += item.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
    return out


def _ca(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cloudsite test CA"))
        .issuer_name(_name("cloudsite test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - 3650 * DAY)
        .not_valid_after(now + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    host: str,
    *,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    start: dt.datetime,
    end: dt.datetime,
) -> bytes:
    key = _key()
    issuer_name = issuer[0].subject if issuer else _name(host)
    signer = issuer[1] if issuer else key
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )
    return _pem(cert, *([issuer[0]] if issuer else []), key)


def make_pki(directory: Path, *, host: str, wrong_host: str) -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca = _ca(now)
    files = {
        "good": _leaf(host, issuer=ca, start=now - DAY, end=now + 90 * DAY),
        "wrong_host": _leaf(wrong_host, issuer=ca, start=now - DAY, end=now + 90 * DAY),
        "expired": _leaf(host, issuer=ca, start=now - 100 * DAY, end=now - 10 * DAY),
        "self_signed": _leaf(host, issuer=None, start=now - DAY, end=now + 90 * DAY),
    }
    paths = {}
    for name, pem in files.items():
        paths[name] = directory / f"{name}.pem"
        paths[name].write_bytes(pem)
    (directory / "ca.pem").write_bytes(_pem(ca[0]))
    return Pki(ca=directory / "ca.pem", **paths)


def certificate_and_key(host: str) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, as PEM, for importing into (moto's) ACM."""
    now = dt.datetime.now(dt.UTC)
    pem = _leaf(host, issuer=None, start=now - DAY, end=now + 90 * DAY)
    cert_end = pem.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")
    return pem[:cert_end], pem[cert_end:]
