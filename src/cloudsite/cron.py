"""[schedule]'s times: a cron or rate expression, checked the way EventBridge Scheduler checks
it, turned into the expression it takes, and matched minute by minute (`cloudsite local`).

cron takes five fields (minute hour day-of-month month day-of-week, the crontab form, with
0 or 7 for Sunday) or EventBridge's six (a year last; one of the two days `?`; 1 for Sunday).
Times are UTC, on AWS and locally. A crontab line that restricts both days (crontab runs when
either matches) has no EventBridge form and is refused. rate is "N minute(s)|hour(s)|day(s)",
singular for 1, as EventBridge wants it.
"""

import calendar
import datetime
import re
from dataclasses import dataclass
from typing import Final

MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge: SUN = 1
RATE: Final = re.compile(r"^(?P<value>[1-9][0-9]*) (?P<unit>minute|hour|day)(?P<plural>s?)$")
UNIT_MINUTES: Final = {"minute": 1, "hour": 60, "day": 1440}


class CronError(ValueError):
    """An expression EventBridge would refuse; the message says why, in one line."""


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low+1, ...
    specials: str = ""  # what else the field takes: ? L W #


FIELDS: Final = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day-of-month", 1, 31, specials="?LW"),
    Field("month", 1, 12, MONTHS),
    Field("day-of-week", 1, 7, DAYS, specials="?L#"),
    Field("year", 1970, 2199),
)


def eventbridge(cron: str) -> str:
    """The six-field EventBridge form of `cron` (five or six fields), or CronError."""
    parts = cron.split()
    if len(parts) == 5:
        parts = _from_crontab(parts)
    elif len(parts) != 6:
        raise CronError(
            f"has {len(parts)} fields; cron takes 5 (minute hour day month weekday) or "
            "EventBridge's 6 (with a year)"
        )
    for field, text in zip(FIELDS, parts, strict=True):
        _values(field, text)
    day, weekday = parts[2], parts[4]
    if (day == "?") == (weekday == "?"):
        raise CronError(
            "EventBridge needs exactly one of day-of-month and day-of-week to be '?' "
            f"(here {day!r} and {weekday!r})"
        )
    return " ".join(parts)


def _from_crontab(parts: list[str]) -> list[str]:
    minute, hour, day, month, weekday = parts
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise CronError(
            f"restricts both the day of the month ({day}) and of the week ({weekday}), which "
            "EventBridge cannot do; make it two schedules"
        )
    if weekday in ("*", "?"):
        weekday = "?"
    else:
        day = "?"
        weekday = re.sub(r"\d+", lambda m: _crontab_day(m.group()), weekday)
    return [minute, hour, day, month, weekday, "*"]


def _crontab_day(number: str) -> str:
    value = int(number)
    if value > 7:
        raise CronError(f"day-of-week {value} is outside 0-7 (0 and 7 are Sunday)")
    return str(value % 7 + 1)


def _number(field: Field, text: str) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.low + field.names.index(upper)
    if not text.isdigit():
        raise CronError(f"{field.name} {text!r} is not a number" + _named(field))
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} {value} is outside {field.low}-{field.high}")
    return value


def _named(field: Field) -> str:
    return f" or one of {field.names[0]}-{field.names[-1]}" if field.names else ""


def _values(field: Field, text: str) -> set[int] | str:
    """The values a field allows, or (for ? L W #) the special text itself, validated."""
    if text == "?":
        if "?" not in field.specials:
            raise CronError(f"{field.name} cannot be '?' (only the two day fields can)")
        return text
    if "L" in field.specials and re.fullmatch(r"L|[1-7]L", text.upper()):
        if field.name == "day-of-week" and text.upper() != "L":
            _number(field, text[:-1])
        return text.upper()
    if "W" in field.specials and re.fullmatch(r"([1-9]|[12][0-9]|3[01])W|LW", text.upper()):
        return text.upper()
    if "#" in field.specials and "#" in text:
        weekday, _, nth = text.partition("#")
        _number(field, weekday)
        if nth not in {"1", "2", "3", "4", "5"}:
            raise CronError(f"{field.name} {text!r}: the week after '#' is 1-5")
        return text.upper()
    values: set[int] = set()
    for item in text.split(","):
        values |= _item(field, item)
    return values


def _item(field: Field, item: str) -> set[int]:
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise CronError(f"{field.name} {item!r}: the step after '/' is a positive number")
        step = int(step_text)
    if span == "*":
        low, high = field.low, field.high
    elif "-" in span:
        first, _, last = span.partition("-")
        low, high = _number(field, first), _number(field, last)
        if low > high:
            raise CronError(f"{field.name} {item!r}: the range runs backwards")
    else:
        low = _number(field, span)
        high = field.high if slash else low
    return set(range(low, high + 1, step))


def rate_minutes(rate: str) -> int:
    """The minutes between runs of a rate expression ("5 minutes", "1 hour"), or CronError."""
    found = RATE.match(rate.strip())
    if not found:
        raise CronError("is not 'N minutes', 'N hours' or 'N days' (e.g. '5 minutes')")
    value, unit = int(found["value"]), found["unit"]
    if (value == 1) == bool(found["plural"]):
        want = f"1 {unit}" if value == 1 else f"{value} {unit}s"
        raise CronError(f"EventBridge wants '{want}' (singular for 1, plural otherwise)")
    return value * UNIT_MINUTES[unit]


def matches(cron: str, when: datetime.datetime) -> bool:
    """Whether the minute `when` (UTC) is one of the EventBridge expression's times."""
    values = [_values(field, text) for field, text in zip(FIELDS, cron.split(), strict=True)]
    minute, hour, day, month, weekday, year = values
    weekday_number = (when.isoweekday() % 7) + 1  # EventBridge: Sunday 1 ... Saturday 7
    plain = (
        (minute, when.minute),
        (hour, when.hour),
        (month, when.month),
        (year, when.year),
    )
    if not all(isinstance(allowed, set) and value in allowed for allowed, value in plain):
        return False
    if day != "?":
        return _day_matches(day, when)
    return _weekday_matches(weekday, when, weekday_number)


def _day_matches(day: set[int] | str, when: datetime.datetime) -> bool:
    last = calendar.monthrange(when.year, when.month)[1]
    if isinstance(day, set):
        return when.day in day
    if day == "L":
        return when.day == last
    target = last if day == "LW" else min(int(day[:-1]), last)
    weekday = datetime.date(when.year, when.month, target).weekday()
    if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
        target = target - 1 if target > 1 else target + 2
    elif weekday == 6:  # Sunday: the Monday after, unless that leaves the month
        target = target + 1 if target < last else target - 2
    return when.day == target


def _weekday_matches(weekday: set[int] | str, when: datetime.datetime, number: int) -> bool:
    if isinstance(weekday, set):
        return number in weekday
    if weekday == "L":
        return number == 7
    if weekday.endswith("L"):
        wanted = _number(FIELDS[4], weekday[:-1])
        last = calendar.monthrange(when.year, when.month)[1]
        return number == wanted and when.day + 7 > last
    wanted_text, _, nth = weekday.partition("#")
    wanted = _number(FIELDS[4], wanted_text)
    return number == wanted and (when.day - 1) // 7 + 1 == int(nth)
