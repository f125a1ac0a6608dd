"""JSON log lines for CloudWatch: one object per line, no multi-line tracebacks.

    JsonFormatter           the formatter (the settings layer's LOGGING, gunicorn's own lines)
    DisallowedHostAsWarning an unknown Host is a client's mistake or a scanner: one WARNING
    logging_for(level)      the LOGGING the layer gives a project that configures none: JSON on
                            stdout at DJANGO_LOG_LEVEL (INFO), so Django's errors are seen with
                            DEBUG off too
    request_line(...)       the one access-log line per request (cloudsite.runtime.front)

A dozen lines of formatter are simpler to audit than another dependency in every image.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

# Attributes every LogRecord has; anything else passed through `extra=` is emitted as a field.
_STANDARD: Final = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key != "request":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class DisallowedHostAsWarning(logging.Filter):
    """Django logs an unknown Host header at ERROR with a traceback; this makes it one WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.security.DisallowedHost":
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def logging_for(level: str) -> dict[str, Any]:
    """LOGGING at `level`. A function, not a constant read at import: gunicorn imports this
    module (its logconfig_dict) before the project's settings put the configured environment,
    DJANGO_LOG_LEVEL included, in place."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"host_warning": {"()": "cloudsite.runtime.jsonlog.DisallowedHostAsWarning"}},
        "formatters": {"json": {"()": "cloudsite.runtime.jsonlog.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["host_warning"],
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
            # The request line (cloudsite.runtime.front) replaces django.server and
            # django.request's per-request lines.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }


def request_line(created: float, **fields: object) -> str:
    """The access-log line: the same shape as JsonFormatter's, written without the logging
    module, so a project's LOGGING (disable_existing_loggers) cannot silence it."""
    entry: dict[str, object] = {
        "time": timestamp(created),
        "level": "INFO",
        "logger": "cloudsite.request",
        "message": "request",
    }
    entry.update(fields)
    return json.dumps(entry, default=str)
