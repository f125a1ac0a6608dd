"""nginx in the ALB's place: `cloudsite local`'s TLS edge when nginx is what is installed.

nginx OSS has no runtime API and no active health checks, so this edge keeps the contract
of edge.py another way:

- the targets and whether each is in service live in `edge.json`, in the edge's folder
  (an Nginx made on that folder reads them back);
- cloudsite makes the health checks itself (edge.healthy: GET /healthz, Host the target's
  address), and AllowTraffic puts a target in service only after 2 of them pass in a row;
- a change of targets rewrites the upstream and reloads nginx gracefully: new workers take
  new connections, the old ones finish the requests they hold and exit. BlockTraffic waits
  for them, at most the deregistration delay, which is the ALB's draining; the old workers
  go on finishing longer requests (to any target) for up to 65 s, longer than nginx waits for
  a target's answer (60 s), so a reload cuts no request nginx would have served.

Two differences from the ALB, both on purpose:
- a reload closes idle keep-alive connections, and a client that sends its next request on
  one as it closes sees a failure (browsers retry it, most HTTP libraries do not). So this
  edge answers every request with `Connection: close`: each costs a TLS handshake, and no
  rollout fails a request;
- between two `cloudsite local` commands nobody runs the checks; nginx's passive ones take
  a target that fails 2 requests out of service for 10 s (`max_fails=2 fail_timeout=10s`),
  when another is in service (nginx never takes out the only one).
"""

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import OperationError
from cloudsite.local.edge import (
    CONNECT_TIMEOUT,
    FALL,
    INTERVAL,
    RISE,
    Views,
    alive,
    healthy,
    pid_in,
    terminate,
)

STATE: Final = "edge.json"
UPSTREAM: Final = "app"
MAINT: Final = "MAINT"  # out of service: registered or blocked
READY: Final = "READY"  # in the upstream, taking traffic
SHUTDOWN: Final = 65  # seconds an old worker may finish requests after a reload (> 60 s read)
ERROR_LOG_OPTION: Final = (1, 19, 5)  # the first nginx with -e (the error log at start-up)


@dataclass
class Nginx(Views):
    folder: Path  # edge.json, nginx.conf, the pid file, the error log, nginx's temp folders
    port: int
    deregistration_delay: float = 10
    http_port: int = 0  # with `pem`: plain HTTP here is redirected to HTTPS on `port`
    pem: str = ""  # the certificate, its chain and key: TLS on `port` (copied in as edge.pem)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name: port, state

    def __post_init__(self) -> None:
        """The targets a running edge in this folder has (what edge.json kept), if any."""
        saved = self.folder / STATE
        if not self.targets and saved.is_file():
            self.targets = json.loads(saved.read_text())["targets"]

    def save(self) -> None:
        (self.folder / STATE).write_text(json.dumps({"targets": self.targets}, indent=2) + "\n")

    # -- the daemon
    @property
    def conf(self) -> Path:
        return self.folder / "nginx.conf"

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [*argv(self.folder, version()), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def start(self) -> None:
        """Write the configuration and start nginx in the background (its master forks)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "temp").mkdir(exist_ok=True)
        if self.pem:  # referred to by a relative name: a `$` in the path would be a variable
            served = self.folder / "edge.pem"
            served.touch(mode=0o600)
            shutil.copyfile(self.pem, served)
        self.save()
        self._write()
        result = self.command()
        if result.returncode != 0:
            raise OperationError(
                "local edge", f"nginx: {reason(result)}", hint=f"its configuration: {self.conf}"
            )
        deadline = time.monotonic() + 10
        while not (self.running() and self._workers()):
            if time.monotonic() > deadline:
                log = self.folder / "error.log"
                raise OperationError("local edge", "nginx did not start", hint=f"its log: {log}")
            time.sleep(0.05)

    def pid(self) -> int:
        return pid_in(self.folder / "nginx.pid", "nginx")

    def running(self) -> bool:
        return alive(self.pid())

    def stop(self) -> None:
        """Fast shutdown, and the master gone."""
        terminate(self.pid())

    # -- the traffic steps
    def register(self, name: str, *, port: int) -> None:
        self.targets[name] = {"port": port, "state": MAINT}
        self.save()

    def block(self, name: str) -> float:
        started = time.monotonic()
        self.targets[name]["state"] = MAINT
        self.save()
        self._reload()
        return time.monotonic() - started

    def deregister(self, name: str) -> None:
        target = self.targets.pop(name)
        self.save()
        if target["state"] == READY:
            self._reload()

    def allow(self, name: str, *, timeout: float = 30) -> float:
        """In service after RISE passing checks in a row (a target starts unhealthy, as the
        ALB starts it), then in the upstream."""
        started = time.monotonic()
        passes = 0
        while (passes := passes + 1 if healthy(self.targets[name]["port"]) else 0) < RISE:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"nginx: {name} did not become healthy within {timeout} s")
            time.sleep(INTERVAL)
        self.targets[name]["state"] = READY
        self.save()
        self._reload()
        return time.monotonic() - started

    def stats(self) -> dict[str, dict[str, str]]:
        """Each target checked now: MAINT out of service; in service, UP, or DOWN once FALL
        checks in a row fail (INTERVAL apart), as the ALB counts them."""
        return {
            name: {
                "status": MAINT if target["state"] == MAINT else _checked(target["port"]),
                "port": str(target["port"]),
            }
            for name, target in self.targets.items()
        }

    # -- the configuration, and a reload that waits for the old workers
    def _write(self) -> None:
        self.conf.write_text(
            config(
                folder=self.folder,
                port=self.port,
                http_port=self.http_port,
                tls=bool(self.pem),
                targets=[t["port"] for t in self.targets.values() if t["state"] == READY],
            )
        )

    def _reload(self) -> None:
        """The new upstream in force: nginx checks the configuration, starts new workers and
        tells the old ones to finish their requests and exit. This returns once new workers
        run and the old ones have exited, or the deregistration delay has passed."""
        self._write()
        checked = self.command("-t")
        if checked.returncode != 0:
            raise OperationError(
                "local edge", f"nginx: {reason(checked)}", hint=f"its configuration: {self.conf}"
            )
        master = self.pid()
        if not master:
            raise OperationError(
                "local edge",
                "nginx is not running (its master has gone)",
                hint="`cloudsite local up` starts it again",
            )
        old = self._workers()
        os.kill(master, signal.SIGHUP)
        started = time.monotonic()
        while True:
            workers, waited = self._workers(), time.monotonic() - started
            if workers - old and (not workers & old or waited > self.deregistration_delay):
                return
            if waited > self.deregistration_delay + 10:
                raise OperationError(
                    "local edge",
                    "nginx started no new workers after a reload",
                    hint=f"its log: {self.folder / 'error.log'}",
                )
            time.sleep(0.02)

    def _workers(self) -> set[int]:
        """The master's children (its workers, old and new)."""
        master = self.pid()
        if not master:
            return set()
        proc = Path("/proc")
        if not proc.is_dir():  # macOS and the BSDs
            found = subprocess.run(  # noqa: S603
                ["pgrep", "-P", str(master)],  # noqa: S607
                capture_output=True,
                text=True,
                check=False,
            )
            return {int(pid) for pid in found.stdout.split()}
        children = set()
        for stat in proc.glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                    children.add(int(stat.parent.name))
        return children


def _checked(port: int) -> str:
    """UP as soon as a check passes; DOWN once FALL in a row have failed, INTERVAL apart."""
    for check in range(FALL):
        if check:
            time.sleep(INTERVAL)
        if healthy(port):
            return "UP"
    return "DOWN"


def config(*, folder: Path, port: int, http_port: int, tls: bool, targets: list[int]) -> str:
    """nginx's configuration: with `tls`, TLS on `port` with the folder's edge.pem and a
    redirect from `http_port` (plain HTTP on `port` without), and an upstream of `targets`
    (a 503, as the ALB answers, when there is none)."""
    temp = folder / "temp"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers run as whoever runs cloudsite
    servers = "".join(
        f"        server 127.0.0.1:{target} max_fails={FALL} fail_timeout=10s;\n"
        for target in targets
    )
    upstream = f"    upstream {UPSTREAM} {{\n{servers}    }}\n" if targets else ""
    route = f"proxy_pass http://{UPSTREAM};" if targets else "return 503;"
    listen = (
        f"listen 127.0.0.1:{port} ssl;\n"
        "        ssl_certificate edge.pem;\n"
        "        ssl_certificate_key edge.pem;\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;"
        if tls
        else f"listen 127.0.0.1:{port};"
    )
    redirect = (
        f"    server {{\n        listen 127.0.0.1:{http_port};\n"
        f"        return 301 https://$host:{port}$request_uri;\n    }}\n"
        if tls and http_port
        else ""
    )
    temps = "".join(
        f"    {kind}_temp_path {_quote(str(temp / kind))};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
# cloudsite local's TLS edge (nginx), rewritten by cloudsite at every change of targets.
{user}worker_processes auto;
worker_shutdown_timeout {SHUTDOWN}s;
pid {_quote(str(folder / "nginx.pid"))};
error_log {_quote(str(folder / "error.log"))} warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    server_tokens off;
{temps}    client_max_body_size 0;
    # A reload closes idle keep-alive connections: no connection is kept idle (see nginx.py).
    keepalive_timeout 0;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_connect_timeout {int(CONNECT_TIMEOUT)}s;
    proxy_read_timeout 60s;
    proxy_send_timeout 60s;
    # The ALB does not retry a request on another target; neither does this.
    proxy_next_upstream off;
{upstream}    server {{
        {listen}
        location / {{
            {route}
        }}
    }}
{redirect}}}
"""


def _quote(value: str) -> str:
    """A path as an nginx string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reason(result: subprocess.CompletedProcess[str]) -> str:
    """What nginx says is wrong: its first [emerg] line (the last line is often only "test
    failed"), without the "nginx: [emerg] " prefix."""
    lines = result.stderr.strip().splitlines() or ["nginx failed"]
    found = next((line for line in lines if "[emerg]" in line), lines[-1])
    return found.split("[emerg] ", 1)[-1]


@functools.cache
def version() -> tuple[int, ...]:
    """The installed nginx's version (`nginx -v` prints it to stderr), (0,) if unknown."""
    found = subprocess.run(
        ["nginx", "-v"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", found.stderr + found.stdout)
    return tuple(int(part) for part in match.groups()) if match else (0,)


def argv(folder: Path, installed: tuple[int, ...]) -> list[str]:
    """nginx's command line for the edge in `folder`. Before 1.19.5 there is no -e: nginx
    then reports start-up errors to its built-in log, and the configuration's own after."""
    errors = ["-e", str(folder / "error.log")] if installed >= ERROR_LOG_OPTION else []
    return ["nginx", *errors, "-p", str(folder)]
