"""The smoke check at the end of `up`: the site answers over HTTPS with a verified certificate.

Kept small and separate on purpose: `cloudsite verify` does the thorough checks, and `up` can
switch to calling it.
"""

import ssl
import urllib.error
import urllib.request
from typing import Final

from cloudsite.aws.waits import Clock, Deadline
from cloudsite.errors import SmokeCheckFailed
from cloudsite.ui import Ui

PATHS: Final = ("/readyz", "/")


def smoke_check(url: str, *, cadata: str | None, ui: Ui, clock: Clock, timeout: float) -> None:
    """GET /readyz and / until both answer 200 (bounded: new targets take a while to pass
    their health checks). `cadata` is the one certificate to trust (a self-signed site);
    None trusts the system's authorities."""
    context = ssl.create_default_context(cadata=cadata) if cadata else ssl.create_default_context()
    deadline = Deadline(
        clock,
        timeout,
        f"smoke check of {url}",
        hint="see `cloudsite status` (target health) and `cloudsite logs app`",
    )
    problem = ""
    with ui.waiting(f"checking {url} over HTTPS", timeout=timeout) as wait:
        while True:
            problem = _probe(url, context=context)
            if not problem:
                return
            wait.status(problem)
            if deadline.expired:
                break
            clock.sleep(clock.poll)
    raise SmokeCheckFailed(url, problem, hint=deadline.hint)


def _probe(url: str, *, context: ssl.SSLContext) -> str:
    """'' when every path answers 200, else what went wrong first."""
    if not url.startswith("https://"):
        return f"{url} is not an https:// URL"
    for path in PATHS:
        target = url.rstrip("/") + path
        request = urllib.request.Request(target, headers={"User-Agent": "cloudsite"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:  # noqa: S310
                if response.status != 200:
                    return f"{path} answered {response.status}"
        except urllib.error.HTTPError as err:
            return f"{path} answered {err.code}"
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            return f"{path}: {reason}"
    return ""
