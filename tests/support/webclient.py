"""A small HTTP client for the tests that log in and write through a site, as a browser does:
it keeps cookies (Secure ones too: the tests also talk plain HTTP to one instance, as the
load balancer does, with X-Forwarded-Proto: https), sends Origin and Referer for Django's
CSRF check, and posts forms and files. The standard library only, so nothing hides a retry
or a redirect: every status is the one the site answered.

    Client(port, tls=context)                    the edge: https://127.0.0.1:port
    Client(port, host=f"127.0.0.1:{edge}")       one instance, as the load balancer sends
    client.login("/admin/login/", user, password)
"""

import http.client
import re
import ssl
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # by lower-case name
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Client:
    port: int
    tls: ssl.SSLContext | None = None  # the edge; None: an instance's plain HTTP port
    host: str = ""  # the Host header (default 127.0.0.1:port)
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://{self.host or f'127.0.0.1:{self.port}'}"

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        if self.tls is not None:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.tls, timeout=30
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {
            "Host": self.host or f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",  # what the edge adds (ignored when it is the edge)
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        try:
            connection.request(method, path, body=body or None, headers=sent)
            answer = connection.getresponse()
            data = answer.read()
            for value in answer.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, data)
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(
        self, path: str, fields: dict[str, str], files: dict[str, tuple] | None = None
    ) -> Response:
        """A form (with the CSRF token of the page at `path`), multipart when `files` are
        given as name: (filename, content type, bytes)."""
        page = self.get(path)
        found = TOKEN.search(page.text)
        assert found, f"no CSRF token in {path} ({page.status})"
        fields = {"csrfmiddlewaretoken": found.group(1), **fields}
        headers = {"Origin": self.origin, "Referer": self.origin + path}
        if files:
            boundary = uuid.uuid4().hex
            body, kind = (
                _multipart(fields, files, boundary),
                f"multipart/form-data; boundary={boundary}",
            )
        else:
            body, kind = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body=body, headers={**headers, "Content-Type": kind})

    def login(self, path: str, username: str, password: str) -> Response:
        answer = self.post(path, {"username": username, "password": password, "next": "/admin/"})
        assert answer.status == 302, f"login at {path}: {answer.status} {answer.text[:300]}"
        assert urlsplit(answer.headers["location"]).path == "/admin/", answer.headers
        return answer


def _multipart(fields: dict[str, str], files: dict[str, tuple], boundary: str) -> bytes:
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, kind, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def fetch_signed(url: str) -> Response:
    """GET a URL whose host is a `*.localhost` name (the media stand-in's, which browsers and
    curl resolve to loopback, but Python's resolver does not): connect to 127.0.0.1 with the
    URL's own Host header, which its signature covers."""
    parts = urlsplit(url)
    assert parts.hostname and parts.hostname.endswith(".localhost"), url
    connection = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
        answer = connection.getresponse()
        return Response(
            answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        )
    finally:
        connection.close()
