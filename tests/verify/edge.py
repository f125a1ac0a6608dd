"""HAProxy in the ALB's place: terminates TLS on loopback in front of the site, with one
correct configuration and one deliberate fault per check (see EdgeConfig).

One HAProxy runs at a time on ports chosen once per session; apply() swaps the config by
restarting it, which takes a fraction of a second.
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.support.servers import free_port, running, wait_for_port

# OpenSSL's own configuration for the "TLS 1.0 enabled" edge: HAProxy can lower the minimum
# version but cannot leave a hole above it, so TLS 1.1 is switched off here. The edge then
# accepts 1.0 and refuses 1.1, and exactly one check must fail.
NO_TLS11 = """openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Protocol = -TLSv1.1
"""


@dataclass(frozen=True)
class EdgeConfig:
    cert: Path
    tls10: bool = False  # accept TLS 1.0 (security level 0, as an old ALB policy would)
    # keep path and query / serve the site over HTTP / redirect to "/" / keep, but with 302
    redirect: Literal["keep", "none", "root", "temporary"] = "keep"
    drop_csp: bool = False  # strip Content-Security-Policy from responses
    insecure_cookie: bool = False  # a stickiness cookie without Secure, like an LB's own
    readyz_port: int | None = None  # send /readyz to this backend (a site whose DB is down)


def render(
    config: EdgeConfig, *, host: str, https_port: int, http_port: int, site_port: int
) -> str:
    tls = (
        "ssl-min-ver TLSv1.0 ciphers DEFAULT:@SECLEVEL=0" if config.tls10 else "ssl-min-ver TLSv1.2"
    )
    origin = f"https://{host}:{https_port}"
    http_rules = {
        "keep": [f"http-request redirect prefix {origin} code 301"],
        "root": [f"http-request redirect location {origin}/ code 301"],
        "temporary": [f"http-request redirect prefix {origin} code 302"],
        "none": ["http-request set-header X-Forwarded-Proto https", "default_backend site"],
    }[config.redirect]
    https_rules = ["http-request set-header X-Forwarded-Proto https"]
    if config.drop_csp:
        https_rules.append("http-response del-header Content-Security-Policy")
    if config.readyz_port:
        https_rules.append("use_backend not_ready if { path /readyz }")
    https_rules.append("default_backend site")
    cookie = ["cookie SRV insert indirect nocache"] if config.insecure_cookie else []
    server = f"server app 127.0.0.1:{site_port}" + (" cookie app" if config.insecure_cookie else "")
    lines = [
        "global", "  maxconn 256",
        "defaults", "  mode http", "  option forwardfor",
        "  timeout connect 2s", "  timeout client 10s", "  timeout server 10s",
        "frontend https", f"  bind 127.0.0.1:{https_port} ssl crt {config.cert} {tls}",
        *(f"  {r}" for r in https_rules),
        "frontend http", f"  bind 127.0.0.1:{http_port}",
        *(f"  {r}" for r in http_rules),
        "backend site", *(f"  {c}" for c in cookie), f"  {server}",
    ]  # fmt: skip
    if config.readyz_port:
        lines += ["backend not_ready", f"  server app 127.0.0.1:{config.readyz_port}"]
    return "\n".join(lines) + "\n"


class Edge:
    """The running HAProxy; `apply` replaces it with one running the given configuration."""

    def __init__(self, workdir: Path, *, host: str, site_port: int) -> None:
        self.workdir, self.host, self.site_port = workdir, host, site_port
        self.https_port, self.http_port = free_port(), free_port()
        self._stack = contextlib.ExitStack()
        self.current: EdgeConfig | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.https_port}/"

    def apply(self, config: EdgeConfig) -> None:
        if config == self.current:
            return
        self.close()
        cfg = self.workdir / "haproxy.cfg"
        cfg.write_text(
            render(config, host=self.host, https_port=self.https_port,
                   http_port=self.http_port, site_port=self.site_port)
        )  # fmt: skip
        env = dict(os.environ)
        if config.tls10:
            (self.workdir / "no-tls11.cnf").write_text(NO_TLS11)
            env["OPENSSL_CONF"] = str(self.workdir / "no-tls11.cnf")
        self._stack.enter_context(
            running(["haproxy", "-db", "-f", str(cfg)], port=self.https_port, env=env,
                    log=self.workdir / "haproxy.log", timeout=15)
        )  # fmt: skip
        wait_for_port(self.http_port)
        self.current = config

    def close(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.current = None
