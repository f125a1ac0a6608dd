"""A load generator that runs while a rollout does and counts every failed request.

Each worker keeps one keep-alive connection to the load balancer (as browsers do) and asks
for the home page, and now and then for the release marker, to see which release answered.
A failure is any exception (reset, refused, timeout) or any status other than 200.
"""

import http.client
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.support.images import MARKER


@dataclass
class LoadReport:
    requests: int = 0
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    releases: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        seen = ", ".join(f"{k}: {v}" for k, v in sorted(self.releases.items()))
        return f"{self.requests} requests, {self.failures} failed (releases seen: {seen})"


class LoadGenerator:
    def __init__(
        self,
        *,
        port: int,
        host: str,
        workers: int = 3,
        pause: float = 0.02,
        headers: dict[str, str] | None = None,
        page: str = "/",
        marker: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`headers`: more request headers, e.g. X-Forwarded-Proto for a site reached without
        the load balancer that would add it. `page`: what to ask for; `marker`: every tenth
        request asks for the release marker instead (only a built release has one). `tls`:
        speak HTTPS with this context (an edge that terminates TLS)."""
        self.port, self.host, self.workers, self.pause = port, host, workers, pause
        self.page, self.marker, self.tls = page, marker, tls
        self.headers = {"Host": host, **(headers or {})}
        self.report = LoadReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "LoadGenerator":
        for _ in range(self.workers):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _work(self) -> None:
        connection = self._connect()
        count = 0
        while not self._stop.is_set():
            count += 1
            marker = self.marker and count % 10 == 0
            path = f"/static/{MARKER.split('/', 1)[1]}" if marker else self.page
            try:
                connection.request("GET", path, headers=self.headers)
                response = connection.getresponse()
                body = response.read()
                self._record(path, response.status, body)
            except (OSError, http.client.HTTPException) as exc:
                self._fail(f"{path}: {type(exc).__name__}: {exc}")
                connection.close()
                connection = self._connect()
            time.sleep(self.pause)
        connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=15, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)

    def _record(self, path: str, status: int, body: bytes) -> None:
        if status != 200:
            self._fail(f"{path}: HTTP {status}")
            return
        with self._lock:
            self.report.requests += 1
            if path != self.page:
                self.report.releases[body.decode().strip()] += 1

    def _fail(self, what: str) -> None:
        with self._lock:
            self.report.requests += 1
            self.report.failures += 1
            if len(self.report.failure_samples) < 20:
                self.report.failure_samples.append(f"{time.strftime('%H:%M:%S')} {what}")
