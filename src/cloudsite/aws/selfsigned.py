"""A self-signed certificate for a site without a domain of its own.

Its names cover the load balancer's DNS name (`*.<region>.elb.amazonaws.com`), so a client
that trusts this one certificate (the smoke check does) verifies the connection fully; browsers
still warn, because nobody they trust signed it. The private key exists only in memory and in
ACM: it is never written to disk or printed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudsite import names

VALID_DAYS = 365
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class KeyPair:
    certificate_pem: bytes
    private_key_pem: bytes

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return "KeyPair(<certificate>, <private key>)"


def elb_wildcard(region: str) -> str:
    return f"*.{region}.elb.amazonaws.com"


def self_signed_create(stack: str, *, region: str, now: datetime) -> KeyPair:
    """An RSA-2048 certificate valid for a year, for the load balancer names in `region`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    # ACM imports RSA-2048 and ECDSA P-256 keys for ALB listeners; RSA works with every client.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names.self_signed_common_name(stack)),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cloudsite self-signed"),
        ]
    )
    san = x509.SubjectAlternativeName(
        [x509.DNSName(elb_wildcard(region)), x509.DNSName(names.self_signed_common_name(stack))]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        key_encipherment=True,
        content_commitment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )


def needs_renewal(not_after: datetime, *, now: datetime) -> bool:
    return not_after - now < timedelta(days=RENEW_BEFORE_DAYS)
