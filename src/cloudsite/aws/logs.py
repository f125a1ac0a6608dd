"""`cloudsite logs`: the app, build, deploy, bootstrap or manage log group (the one-off
commands' output and run records), from CloudWatch Logs."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cloudsite.aws.waits import Clock
from cloudsite.errors import ConfigError
from cloudsite.outputs import Output

KINDS: Final = {
    "app": Output.APP_LOG_GROUP_NAME,
    "build": Output.BUILD_LOG_GROUP_NAME,
    "deploy": Output.DEPLOY_LOG_GROUP_NAME,
    "bootstrap": Output.BOOTSTRAP_LOG_GROUP_NAME,
    "manage": Output.MANAGE_LOG_GROUP_NAME,
}
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def since_parse(text: str, *, now: datetime) -> datetime:
    """`--since`: a duration back from now (90s, 10m, 2h, 3d, 1w) or an ISO 8601 time."""
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if match:
        return now - timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            "--since",
            f"{text!r} is neither a duration nor a time",
            hint="use 10m, 2h, 3d or a time such as 2026-01-31T12:00:00Z",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def event_record(event: dict[str, Any]) -> dict[str, str]:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, tz=UTC)
    return {
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "stream": event.get("logStreamName", ""),
        "message": event["message"].rstrip("\n"),
    }


def logs_read(
    logs: Any,
    group: str,
    *,
    start: datetime,
    pattern: str,
    follow: bool,
    clock: Clock,
    emit: Callable[[dict[str, str]], None],
) -> int:
    """Print every event from `start` on, oldest first; with `follow`, keep polling for new
    ones until interrupted. Returns how many events were printed."""
    start_ms = int(start.timestamp() * 1000)
    seen: dict[str, int] = {}  # event id -> timestamp, for events at or after start_ms
    count = 0
    while True:
        args: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if pattern:
            args["filterPattern"] = pattern
        for page in logs.get_paginator("filter_log_events").paginate(**args):
            for event in page.get("events", []):
                if event["eventId"] in seen:
                    continue
                seen[event["eventId"]] = event["timestamp"]
                start_ms = max(start_ms, event["timestamp"])
                emit(event_record(event))
                count += 1
        if not follow:
            return count
        # The next poll starts at the newest timestamp; only ids at that time can repeat.
        seen = {eid: ts for eid, ts in seen.items() if ts >= start_ms}
        clock.sleep(clock.poll)
