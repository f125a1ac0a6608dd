"""The reference site's WSGI application plus one slow path, for the graceful-shutdown test
only: project.json names it in config.wsgi's place, so the layer's front stays in front of it.

GET /slow marks that it has started (the file named by SLOW_STARTED), sleeps SLOW_SECONDS,
then serves the home page through the real application. The site's own URLs never include it.
"""

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from config.wsgi import application as site


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/slow":
        Path(os.environ["SLOW_STARTED"]).touch()
        time.sleep(float(os.environ.get("SLOW_SECONDS", "3")))
        environ = {**environ, "PATH_INFO": "/"}
    return site(environ, start_response)
