"""The local edge's certificate: a certificate authority made for this project's rehearsal,
and a certificate it signs for 127.0.0.1 and localhost. Both live in .cloudsite/local/tls/
(the keys mode 0600) and are made again when they are within 7 days of expiring.

`cloudsite verify --ca-bundle .cloudsite/local/tls/ca.pem` then checks the chain and the name
as it checks a real site's; browsers warn, as they do for any certificate they do not know.
"""

import datetime
import ipaddress
import os
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DAYS: Final = 90
RENEW_DAYS: Final = 7


def edge_certificate(folder: Path, *, project: str) -> tuple[Path, Path]:
    """(the PEM HAProxy serves: certificate, its CA and key; the CA's certificate)."""
    folder.mkdir(parents=True, exist_ok=True)
    served, ca_file = folder / "edge.pem", folder / "ca.pem"
    if served.is_file() and ca_file.is_file() and not _expiring(ca_file):
        return served, ca_file
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"cloudsite local CA ({project})")]
    )
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
            ca_name,
            key.public_key(),
            now,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(served, leaf.public_bytes(pem) + ca.public_bytes(pem) + private, mode=0o600)
    _write(ca_file, ca.public_bytes(pem), mode=0o644)
    return served, ca_file


def _builder(
    subject: x509.Name, issuer: x509.Name, public: object, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DAYS))
    )


def _expiring(path: Path) -> bool:
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    left = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return left < datetime.timedelta(days=RENEW_DAYS)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)
