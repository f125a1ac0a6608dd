"""The network side of verify: name resolution, TCP, TLS handshakes and plain HTTP/1.1 GETs.

Every connection goes to an address this module resolved itself, while SNI and the Host
header carry the site's name. That is what lets `--resolve host:address` (like curl's) test
a deployment before its DNS moves, and lets the tests point names at 127.0.0.1 without
touching /etc/hosts. Every socket operation has a timeout.
"""

import http.client
import socket
import ssl
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cloudsite.verify.model import VerifyError

USER_AGENT = "cloudsite-verify"
# Enough of a page to find its <script> and <meta http-equiv> tags; the rest is not read.
BODY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Site:
    """Where the site is: its name, ports, the addresses to connect to, and the time budget."""

    host: str
    https_port: int = 443
    http_port: int = 80
    addresses: tuple[str, ...] = ()
    timeout: float = 4.0

    def authority(self, *, https: bool = True) -> str:
        """host[:port] as it appears in a URL or a Host header (the port only if not default)."""
        port, default = (self.https_port, 443) if https else (self.http_port, 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if port == default else f"{host}:{port}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed: float

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        return next(iter(header_values(self.headers, name)), None)

    def header_all(self, name: str) -> list[str]:
        return header_values(self.headers, name)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of a header, in order; header names are case-insensitive."""
    wanted = name.lower()
    return [v for k, v in headers if k.lower() == wanted]


def parse_url(url: str) -> tuple[str, int]:
    """(host, https port) of an https:// URL; a bare host name means https://host/."""
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise VerifyError(
            url, "verify checks a site over HTTPS", hint="give the https:// URL of the site"
        )
    try:
        port = parts.port or 443
    except ValueError:
        raise VerifyError(
            url, "the port is not a number", hint="use https://HOST[:PORT]/"
        ) from None
    if not parts.hostname:
        raise VerifyError(url, "there is no host name in it", hint="use https://HOST[:PORT]/")
    return parts.hostname, port


def resolve(host: str, *, overrides: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The addresses a name resolves to (IPv4 first), or the override given for it."""
    if overrides and host.lower() in overrides:
        return (overrides[host.lower()],)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise VerifyError(
            host,
            f"does not resolve ({exc.args[-1] if exc.args else exc})",
            hint="check the name, or that its DNS records exist (dig +short NAME)",
        ) from None
    addresses = dict.fromkeys(str(info[4][0]) for info in infos)
    return tuple(sorted(addresses, key=lambda a: ":" in a))


def connect(site: Site, port: int) -> socket.socket:
    """A TCP connection to the first of the site's addresses that answers on `port`."""
    error: OSError | None = None
    for address in site.addresses:
        try:
            return socket.create_connection((address, port), timeout=site.timeout)
        except OSError as exc:
            error = exc
    raise ConnectionError(describe_error(error, site=site, port=port))


def describe_error(exc: BaseException | None, *, site: Site, port: int) -> str:
    """One line for a connection problem: 'connection refused by 198.51.100.4:443'."""
    where = f"{site.host}:{port}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {where} within {site.timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc})"
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"cannot connect to {where} ({reason})"


def client_context(
    *, version: ssl.TLSVersion | None = None, verify: bool = False
) -> ssl.SSLContext:
    """A client context. Probes for one exact version allow every cipher at security level 0:
    Debian's OpenSSL would otherwise refuse TLS 1.0 and 1.1 on the client side, and a
    'refused' verdict must mean that the *server* refused."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1, on purpose
            context.minimum_version = version
            context.maximum_version = version
        context.set_ciphers("ALL:@SECLEVEL=0")
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def handshake(site: Site, context: ssl.SSLContext) -> tuple[str, str, bytes]:
    """TLS handshake with the site's HTTPS port; returns (version, cipher, leaf DER).

    Raises ssl.SSLError when the handshake fails and ConnectionError when TCP does."""
    sock = connect(site, site.https_port)
    try:
        with context.wrap_socket(sock, server_hostname=site.host) as tls:
            cipher = tls.cipher()
            return tls.version() or "", cipher[0] if cipher else "", tls.getpeercert(True) or b""
    except TimeoutError as exc:
        raise ConnectionError(describe_error(exc, site=site, port=site.https_port)) from None
    finally:
        sock.close()


def get(
    site: Site, path: str, *, https: bool = True, headers: Mapping[str, str] | None = None
) -> Response:
    """One HTTP/1.1 GET (no redirects followed, no certificate check: the certificate has a
    check of its own, so a bad certificate fails one line and not every line)."""
    started = time.monotonic()
    port = site.https_port if https else site.http_port
    sock = connect(site, port)
    try:
        if https:
            sock = client_context().wrap_socket(sock, server_hostname=site.host)
        connection = http.client.HTTPConnection(site.host, port, timeout=site.timeout)
        connection.sock = sock  # already connected, to the address we resolved
        request_headers = {
            "Host": site.authority(https=https),
            "User-Agent": USER_AGENT,
            "Accept": "text/html,*/*",
            "Connection": "close",
            **(headers or {}),
        }
        connection.request("GET", path, headers=request_headers)
        answer = connection.getresponse()
        body = answer.read(BODY_LIMIT)
        return Response(
            status=answer.status,
            headers=tuple(answer.getheaders()),
            body=body,
            elapsed=time.monotonic() - started,
        )
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectionError(describe_error(exc, site=site, port=port)) from None
    finally:
        sock.close()
