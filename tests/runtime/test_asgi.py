"""The front for a project with only an ASGI application (cloudsite.runtime.asgi.Front), around
a tiny ASGI application: the same probes, headers, request id and request line as the WSGI
front (test_front.py), and everything that is not HTTP passed through untouched; then a tiny
ASGI project loaded through the layer."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cloudsite.runtime.asgi import Front
from tests.runtime.tiny import ASGI, SETTINGS, tiny_project

Message = dict[str, Any]
ASGI_APP = "tiny.asgi:application"


class Page:
    """An ASGI application that answers every HTTP request 200 and records the scopes it got."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/html"), (b"x-frame-options", b"DENY")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"<p>page</p>"})


def call(app: Any, path: str = "/", *, scope_type: str = "http", **headers: str) -> list[Message]:
    scope = {
        "type": scope_type,
        "method": "GET",
        "path": path,
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.1", 50000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def headers_of(sent: list[Message]) -> dict[str, list[str]]:
    collected: dict[str, list[str]] = {}
    for name, value in sent[0]["headers"]:
        collected.setdefault(name.decode().lower(), []).append(value.decode())
    return collected


def test_healthz_answers_200_without_calling_the_application() -> None:
    page = Page()
    sent = call(Front(page), "/healthz", host="10.0.3.7")
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"ok\n"
    assert headers_of(sent)["cache-control"] == ["no-store"]
    assert page.scopes == []


def test_a_page_gets_the_headers_a_request_id_and_one_request_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678"
    sent = call(
        Front(Page(), csp="default-src 'none'"),
        "/about/",
        x_forwarded_proto="https",
        x_forwarded_for="198.51.100.9, 203.0.113.7",
        x_amzn_trace_id=trace,
    )
    headers = headers_of(sent)
    assert headers["x-frame-options"] == ["DENY"]  # the application's own, kept
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["content-security-policy"] == ["default-src 'none'"]
    assert headers["strict-transport-security"][0].startswith("max-age=63072000")
    assert headers["x-request-id"] == ["1-67891233-abcdef012345678912345678"]
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["logger"], line["path"], line["status"]) == ("cloudsite.request", "/about/", 200)
    assert line["remote_addr"] == "203.0.113.7"
    assert line["request_id"] == headers["x-request-id"][0]


def test_lifespan_and_websockets_pass_through_untouched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = Page()
    for kind in ("lifespan", "websocket"):
        call(Front(page), "/healthz", scope_type=kind)
    assert [scope["type"] for scope in page.scopes] == ["lifespan", "websocket"]
    assert capsys.readouterr().out == ""


_DESCRIBE = """
from cloudsite.runtime import asgi
from django.conf import settings

print(type(asgi.application).__name__, settings.SETTINGS_MODULE, settings.DEBUG)
"""


def _describe(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _DESCRIBE],
        cwd=cwd,
        env={**env, "DJANGO_SECRET_KEY": "k" * 50},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_project_s_asgi_application_runs_under_the_layer_s_settings(tmp_path: Path) -> None:
    env = tiny_project(
        tmp_path, settings=SETTINGS + "DEBUG = True\n", server="asgi", application=ASGI_APP
    )
    result = _describe(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Front", "cloudsite.runtime.settings", "False"]


def test_an_asgi_py_that_sets_the_settings_module_outright_is_refused(tmp_path: Path) -> None:
    # Served anyway, it would run on the project's own settings: DEBUG as committed, no layer.
    outright = ASGI.replace("os.environ.setdefault(", "os.environ.__setitem__(")
    env = tiny_project(tmp_path, asgi=outright, server="asgi", application=ASGI_APP)
    result = _describe(env, tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "tiny.asgi sets DJANGO_SETTINGS_MODULE to 'tiny.settings' outright" in last
