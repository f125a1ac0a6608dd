"""[schedule]'s expressions (cloudsite.cron): crontab's five fields become EventBridge's six,
what EventBridge refuses is refused here, and the local scheduler's minute matching."""

import datetime

import pytest

from cloudsite import cron

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("given", "eventbridge"),
    [
        ("0 3 * * *", "0 3 * * ? *"),  # daily at 03:00
        ("*/15 * * * *", "*/15 * * * ? *"),
        ("30 8 * * 1-5", "30 8 ? * 2-6 *"),  # crontab Monday-Friday is EventBridge 2-6
        ("0 0 * * 0", "0 0 ? * 1 *"),  # crontab Sunday 0 is EventBridge 1
        ("0 0 * * 7", "0 0 ? * 1 *"),  # and so is crontab's 7
        ("0 0 * * SUN,SAT", "0 0 ? * SUN,SAT *"),
        ("0 12 1 * *", "0 12 1 * ? *"),
        ("0 12 1 JAN-MAR *", "0 12 1 JAN-MAR ? *"),
        ("0 18 ? * MON-FRI *", "0 18 ? * MON-FRI *"),  # six fields pass as they are
        ("0 10 L * ? 2027", "0 10 L * ? 2027"),
        ("0 10 ? * 6#3 *", "0 10 ? * 6#3 *"),
    ],
)
def test_crontab_and_eventbridge_forms_give_eventbridge_s(given: str, eventbridge: str) -> None:
    assert cron.eventbridge(given) == eventbridge


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("0 3 * *", "has 4 fields"),
        ("60 * * * *", "minute 60 is outside 0-59"),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("0 0 32 * *", "day-of-month 32 is outside 1-31"),
        ("0 0 * 13 *", "month 13 is outside 1-12"),
        ("0 0 * * 8", "day-of-week 8 is outside 0-7"),
        ("0 0 1 * 1", "EventBridge cannot do"),
        ("0 0 1 * 2 *", "exactly one of day-of-month and day-of-week"),
        ("0 0 ? * ? *", "exactly one of day-of-month and day-of-week"),
        ("? 0 * * ? *", "minute cannot be '?'"),
        ("*/0 * * * *", "the step after '/' is a positive number"),
        ("5-1 * * * *", "the range runs backwards"),
        ("x * * * *", "minute 'x' is not a number"),
        ("0 0 ? * 2#6 *", "the week after '#' is 1-5"),
        ("0 0 1 * ? 1969", "year 1969 is outside 1970-2199"),
    ],
)
def test_what_eventbridge_would_refuse_is_refused_with_the_reason(given: str, why: str) -> None:
    with pytest.raises(cron.CronError, match=why.replace("?", r"\?").replace("/", "/")):
        cron.eventbridge(given)


@pytest.mark.parametrize(
    ("rate", "minutes"), [("1 minute", 1), ("15 minutes", 15), ("2 hours", 120), ("1 day", 1440)]
)
def test_a_rate_is_its_minutes(rate: str, minutes: int) -> None:
    assert cron.rate_minutes(rate) == minutes


@pytest.mark.parametrize("rate", ["1 minutes", "5 minute", "0 minutes", "5 weeks", "five minutes"])
def test_a_rate_eventbridge_refuses_is_refused(rate: str) -> None:
    with pytest.raises(cron.CronError):
        cron.rate_minutes(rate)


def _at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "when", "expected"),
    [
        ("0 3 * * ? *", "2026-12-08T03:00", True),
        ("0 3 * * ? *", "2026-12-08T03:01", False),
        ("*/15 * * * ? *", "2026-12-08T10:45", True),
        ("*/15 * * * ? *", "2026-12-08T10:46", False),
        ("30 8 ? * 2-6 *", "2026-12-07T08:30", True),  # a Monday
        ("30 8 ? * 2-6 *", "2026-12-06T08:30", False),  # a Sunday
        ("0 0 ? * 1 *", "2026-12-06T00:00", True),  # Sunday is 1
        ("0 0 ? * SAT *", "2026-12-12T00:00", True),
        ("0 10 L * ? *", "2026-02-28T10:00", True),  # the last day of February
        ("0 10 L * ? *", "2026-02-27T10:00", False),
        ("0 10 ? * 6#2 *", "2026-12-11T10:00", True),  # the second Friday
        ("0 10 ? * 6#2 *", "2026-12-04T10:00", False),
        ("0 10 ? * 6L *", "2026-12-25T10:00", True),  # the last Friday
        ("0 10 15W * ? *", "2026-08-14T10:00", True),  # the 15th is a Saturday: the Friday
        ("0 0 1 1 ? 2027", "2027-01-01T00:00", True),
        ("0 0 1 1 ? 2027", "2026-01-01T00:00", False),
    ],
)
def test_the_local_scheduler_matches_the_minutes_eventbridge_would_run(
    expression: str, when: str, expected: bool
) -> None:
    assert cron.matches(expression, _at(when)) is expected
