"""Secrets that change while the site runs, without a restart and without dropping a request.

The deploy host hands the container its secrets through a pipe at start (`bin/start`). When
one changes later (RDS rotates the database password, an operator rotates the secret key),
the host's timer hands the new set to the running container (`bin/start reload`, docs/deploy.md,
"Secrets that change"). That sends gunicorn's master SIGHUP: in `on_reload`
(gunicorn_conf.py) the master calls `receive`, which reads the new records from the same kind
of pipe into its environment, and gunicorn then starts new workers and stops the old ones
gracefully. Each new worker calls `apply_environment` before it serves (`post_fork`), so
every request is answered by a worker that holds one consistent set of secrets.

Records are NAME=VALUE, NUL-separated, ended by an empty record; a value is never logged.
"""

import os
import re
import select
import time

RECORD = re.compile(r"[A-Z][A-Z0-9_]*=", re.ASCII)


class SecretsError(Exception):
    """The records did not arrive whole or well-formed; nothing was changed."""


def parse(data: bytes) -> dict[str, str] | None:
    """The records in `data` once it holds the terminating empty record, else None."""
    parts = data.split(b"\0")
    if b"" not in parts[:-1]:
        return None
    records = parts[: parts.index(b"")]
    values = {}
    for number, raw in enumerate(records, start=1):
        record = raw.decode()
        if not RECORD.match(record):
            raise SecretsError(f"record {number} is not NAME=VALUE")
        name, value = record.split("=", 1)
        values[name] = value
    return values


def receive(path: str, *, timeout: float = 30.0) -> dict[str, str]:
    """Make a FIFO at `path` (mode 0600), wait up to `timeout` seconds for the records, remove
    it, and return them: all of them or, on a timeout or a malformed record, SecretsError."""
    if os.path.lexists(path):
        os.unlink(path)
    os.mkfifo(path, 0o600)
    # Read-write, like the shell's `exec 3<>`: opening does not block, and no EOF arrives
    # before a writer has come and gone.
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        data, deadline = b"", time.monotonic() + timeout
        while (records := parse(data)) is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise SecretsError(f"none arrived within {timeout:g} s")
            data += os.read(fd, 65536)
        return records
    finally:
        os.close(fd)
        os.unlink(path)


def apply_environment() -> None:
    """Point this process's settings at the secrets now in its environment: the secret key,
    its fallbacks and the database. Run in a new worker before it serves a request."""
    from django.conf import settings
    from django.db import connections

    from cloudsite.runtime.production import database_from

    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key:
        settings.SECRET_KEY = key
        settings.SECRET_KEY_FALLBACKS = [
            k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k
        ]
    if os.environ.get("DATABASE_URL"):
        # In place: Django's connection handler holds this same dict.
        settings.DATABASES["default"].update(database_from(os.environ["DATABASE_URL"]))
    connections.close_all()
