"""`cloudsite logs`: --since parsing, and reading (and following) a log group on moto."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from cloudsite.aws.logs import logs_read, since_parse
from cloudsite.errors import ConfigError
from tests.cli.stubs import FakeClock

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("10m", NOW - timedelta(minutes=10)),
        ("2h", NOW - timedelta(hours=2)),
        ("3d", NOW - timedelta(days=3)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-11-27T08:30:00Z", datetime(2026, 11, 27, 8, 30, tzinfo=UTC)),
        ("2026-11-27T08:30:00", datetime(2026, 11, 27, 8, 30, tzinfo=UTC)),
    ],
)
def test_since_takes_durations_and_times(text: str, expected: datetime) -> None:
    assert since_parse(text, now=NOW) == expected


def test_since_refuses_anything_else() -> None:
    with pytest.raises(ConfigError) as caught:
        since_parse("yesterday", now=NOW)
    assert caught.value.what == "--since"
    assert "'yesterday'" in caught.value.why


@pytest.mark.emulator
def test_logs_are_read_in_order_filtered_and_followed(aws: str) -> None:
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/cloudsite/wanderpage/app")
    logs.create_log_stream(logGroupName="/cloudsite/wanderpage/app", logStreamName="i-0abc")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)

    def put(*messages: str, start: int) -> None:
        logs.put_log_events(
            logGroupName="/cloudsite/wanderpage/app",
            logStreamName="i-0abc",
            logEvents=[
                {"timestamp": now_ms + start + i, "message": m} for i, m in enumerate(messages)
            ],
        )

    put('{"level": "INFO", "path": "/"}', '{"level": "ERROR", "path": "/boom"}', start=-60_000)
    seen: list[dict[str, str]] = []
    count = logs_read(
        logs,
        "/cloudsite/wanderpage/app",
        start=datetime.now(UTC) - timedelta(minutes=5),
        pattern="",
        follow=False,
        clock=FakeClock(),
        emit=seen.append,
    )
    assert count == 2
    assert [r["message"] for r in seen] == [
        '{"level": "INFO", "path": "/"}',
        '{"level": "ERROR", "path": "/boom"}',
    ]
    assert {r["stream"] for r in seen} == {"i-0abc"}
    errors: list[dict[str, str]] = []
    logs_read(
        logs,
        "/cloudsite/wanderpage/app",
        start=datetime.now(UTC) - timedelta(minutes=5),
        pattern="ERROR",
        follow=False,
        clock=FakeClock(),
        emit=errors.append,
    )
    assert [r["message"] for r in errors] == ['{"level": "ERROR", "path": "/boom"}']

    class Stop(Exception):
        pass

    followed: list[str] = []
    clock = FakeClock()
    polls = iter([lambda: put("later", start=-1000), lambda: (_ for _ in ()).throw(Stop())])

    def sleep(seconds: float) -> None:
        next(polls)()

    clock.sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(Stop):
        logs_read(
            logs,
            "/cloudsite/wanderpage/app",
            start=datetime.now(UTC) - timedelta(minutes=5),
            pattern="",
            follow=True,
            clock=clock,
            emit=lambda r: followed.append(r["message"]),
        )
    # each event once, the new one after the old ones
    assert followed == [
        '{"level": "INFO", "path": "/"}',
        '{"level": "ERROR", "path": "/boom"}',
        "later",
    ]
