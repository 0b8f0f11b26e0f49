"""EventBridge schedule expressions (`rate(...)`, `cron(...)`, `at(...)`) as pure functions of time.

Each parsed expression answers one question: when is the first firing strictly after a given
moment? The runtime asks it on the virtual clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ScheduleError(ValueError):
    """A schedule expression EventBridge would reject (or the local cloud cannot run)."""


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None: ...


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """`rate(5 minutes)`: every period, counted from when the schedule was created."""

    period: timedelta
    anchor: datetime

    def next_after(self, moment: datetime) -> datetime:
        if moment < self.anchor:
            return self.anchor + self.period
        elapsed_periods = (moment - self.anchor) // self.period
        return self.anchor + (elapsed_periods + 1) * self.period


@dataclass(frozen=True)
class At:
    """`at(2026-01-01T10:00:00)`: once (EventBridge Scheduler only)."""

    moment: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.moment if self.moment > moment else None


_AT = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)")

_MONTHS = {name: index for index, name in enumerate(calendar.month_abbr) if name}
_MONTHS = {name.upper(): index for name, index in _MONTHS.items()}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _numbers(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """`*`, `5`, `1-5`, `MON-FRI`, `0/15`, `*/10`, `1,3,5` -> the set of values."""
    values: set[int] = set()
    for part in field.split(","):
        range_part, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if range_part == "*":
            start, end = low, high
        elif "-" in range_part:
            first, last = range_part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(range_part, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleError(f"cron field {field!r} outside {low}-{high}")
        if start <= end:
            values.update(range(start, end + 1, step))
        else:  # wraps around, e.g. FRI-MON
            values.update(v for v in range(start, end + high - low + 2, step))
            values = {((v - low) % (high - low + 1)) + low for v in values}
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron value {text!r} is not a number")
    return int(text)


def _weekday_number(day: date) -> int:
    """EventBridge numbers days 1 (SUN) to 7 (SAT)."""
    return (day.isoweekday() % 7) + 1


def _nearest_weekday(day_of_month: int, year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    target = date(year, month, min(day_of_month, last))
    if target.weekday() == 5:  # Saturday -> Friday, unless that leaves the month
        return target.day - 1 if target.day > 1 else target.day + 2
    if target.weekday() == 6:  # Sunday -> Monday, unless that leaves the month
        return target.day + 1 if target.day < last else target.day - 2
    return target.day


@dataclass(frozen=True)
class Cron:
    """`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, evaluated in `timezone`."""

    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None
    timezone: str = "UTC"

    @classmethod
    def parse(cls, fields: str, timezone: str = "UTC") -> Cron:
        parts = fields.split()
        if len(parts) != 6:
            raise ScheduleError(f"cron needs 6 fields, got {len(parts)}: {fields!r}")
        minutes, hours, day_of_month, months, day_of_week, years = parts
        if (day_of_month == "?") == (day_of_week == "?"):
            raise ScheduleError("cron: exactly one of day-of-month and day-of-week must be '?'")
        cron = cls(
            minutes=frozenset(_numbers(minutes, 0, 59)),
            hours=frozenset(_numbers(hours, 0, 23)),
            day_of_month=day_of_month.upper(),
            months=frozenset(_numbers(months, 1, 12, _MONTHS)),
            day_of_week=day_of_week.upper(),
            years=None if years == "*" else frozenset(_numbers(years, 1970, 2199)),
            timezone=timezone,
        )
        cron.matches_day(date(2000, 1, 1))  # validates the day fields once, up front
        return cron

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.day_of_month != "?":
            return self._day_of_month_matches(day)
        return self._day_of_week_matches(day)

    def _day_of_month_matches(self, day: date) -> bool:
        field = self.day_of_month
        last = calendar.monthrange(day.year, day.month)[1]
        if field == "L":
            return day.day == last
        if field == "LW":
            return day.day == _nearest_weekday(last, day.year, day.month)
        if field.endswith("W"):
            return day.day == _nearest_weekday(int(field[:-1]), day.year, day.month)
        return day.day in _numbers(field, 1, 31)

    def _day_of_week_matches(self, day: date) -> bool:
        field = self.day_of_week
        weekday = _weekday_number(day)
        if field == "L":
            return weekday == 7
        if field.endswith("L"):  # `5L`: the last Thursday of the month
            wanted = _value(field[:-1], _WEEKDAYS)
            return weekday == wanted and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        if "#" in field:  # `3#2`: the second Tuesday of the month
            wanted_text, nth = field.split("#", 1)
            return weekday == _value(wanted_text, _WEEKDAYS) and (day.day - 1) // 7 + 1 == int(nth)
        return weekday in _numbers(field, 1, 7, _WEEKDAYS)

    def next_after(self, moment: datetime) -> datetime | None:
        """Times are wall-clock times of the zone. Across a daylight saving change Scheduler
        skips a time the change leaves out (spring) and fires a repeated time once (autumn:
        its first occurrence)."""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone).replace(tzinfo=None)
        start_minute = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for day_offset in range(366 * 5):  # a year field may leave gaps; give up after 5 years
            day = start_minute.date() + timedelta(days=day_offset)
            if not self.matches_day(day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    wall = datetime(day.year, day.month, day.day, hour, minute)
                    if wall < start_minute:
                        continue
                    candidate = wall.replace(tzinfo=zone).astimezone(UTC)  # fold 0: the first
                    if candidate.astimezone(zone).replace(tzinfo=None) != wall:
                        continue  # the clocks jumped over this time
                    if candidate > moment:
                        return candidate
        return None


def parse_schedule(
    expression: str, *, start: datetime, timezone: str = "UTC", scheduler: bool = False
) -> Schedule:
    """Parse a rule's or schedule's expression; `start` anchors `rate(...)` schedules.

    A scheduled rule's rate fires one period after `start` and wants a singular unit for 1
    (`rate(1 hour)`), a plural one otherwise. An EventBridge Scheduler schedule
    (`scheduler=True`) fires its rate first at `start` (its StartDate, or at once) and takes
    either form of the unit, as Scheduler's API reference lists them.
    """
    text = expression.strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown timezone {timezone!r} (an IANA name, e.g. Europe/Paris)"
        ) from None
    rate = _RATE.fullmatch(text)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if amount < 1:
            raise ScheduleError(f"{expression}: the rate must be positive")
        period = timedelta(seconds=amount * _UNIT_SECONDS[unit])
        if scheduler:
            return Rate(period, start - period)
        if (amount == 1) != (rate.group(2) == unit):
            raise ScheduleError(f"{expression}: the unit is singular for 1, plural otherwise")
        return Rate(period, start)
    if text.startswith("cron(") and text.endswith(")"):
        return Cron.parse(text[5:-1], timezone)
    if text.startswith("at(") and text.endswith(")"):
        if not _AT.fullmatch(text):
            raise ScheduleError(f"{expression}: a one-time schedule is at(yyyy-mm-ddThh:mm:ss)")
        try:
            moment = datetime.fromisoformat(text[3:-1])
        except ValueError:
            raise ScheduleError(f"{expression}: not a date and time") from None
        # The time is a wall-clock time of the schedule's timezone.
        return At(moment.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC))
    raise ScheduleError(f"not a schedule expression: {expression!r}")
