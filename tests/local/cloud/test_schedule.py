"""Schedule expressions on the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.local.schedule import ScheduleError, parse_schedule

START = datetime(2026, 3, 2, 10, 7, 30, tzinfo=UTC)  # a Monday


def firings(expression: str, count: int, *, timezone: str = "UTC") -> list[str]:
    schedule = parse_schedule(expression, start=START, timezone=timezone)
    moments: list[str] = []
    moment: datetime | None = START
    while moment is not None and len(moments) < count:
        moment = schedule.next_after(moment)
        if moment is not None:
            moments.append(moment.strftime("%a %Y-%m-%d %H:%M"))
    return moments


def test_rate_counts_periods_from_creation() -> None:
    assert firings("rate(5 minutes)", 2) == ["Mon 2026-03-02 10:12", "Mon 2026-03-02 10:17"]
    assert firings("rate(1 day)", 1) == ["Tue 2026-03-03 10:07"]


def test_a_scheduler_rate_fires_first_at_its_start_and_takes_either_unit() -> None:
    schedule = parse_schedule("rate(1 hours)", start=START, scheduler=True)
    just_before = START - timedelta(microseconds=1)
    first = schedule.next_after(just_before)
    assert first == START
    assert schedule.next_after(START) == START + timedelta(hours=1)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0/15 * * * ? *)", ["Mon 2026-03-02 10:15", "Mon 2026-03-02 10:30"]),
        ("cron(0 9 ? * MON-FRI *)", ["Tue 2026-03-03 09:00", "Wed 2026-03-04 09:00"]),
        ("cron(0 12 L * ? *)", ["Tue 2026-03-31 12:00", "Thu 2026-04-30 12:00"]),
        ("cron(30 8 ? * 6L *)", ["Fri 2026-03-27 08:30", "Fri 2026-04-24 08:30"]),
        ("cron(0 0 ? * 2#1 *)", ["Mon 2026-04-06 00:00", "Mon 2026-05-04 00:00"]),
        ("cron(0 0 1W * ? *)", ["Wed 2026-04-01 00:00", "Fri 2026-05-01 00:00"]),
        ("cron(0 0 1 JAN,JUL ? 2027)", ["Fri 2027-01-01 00:00", "Thu 2027-07-01 00:00"]),
        ("cron(5,10 10 2 3 ? 2026)", ["Mon 2026-03-02 10:10"]),
    ],
)
def test_cron_follows_eventbridge_fields(expression: str, expected: list[str]) -> None:
    assert firings(expression, 2) == expected


def test_cron_in_a_timezone() -> None:
    # 09:00 in New York is 14:00 UTC before daylight saving time (from 2026-03-08), 13:00 after.
    assert firings("cron(0 9 ? * MON *)", 2, timezone="America/New_York") == [
        "Mon 2026-03-02 14:00",
        "Mon 2026-03-09 13:00",
    ]


def test_a_time_the_spring_change_leaves_out_is_skipped() -> None:
    # New York jumps from 02:00 to 03:00 on 2026-03-08: there is no 02:30 that day.
    assert firings("cron(30 2 * * ? *)", 6, timezone="America/New_York")[-2:] == [
        "Sat 2026-03-07 07:30",
        "Mon 2026-03-09 06:30",
    ]


def test_a_time_the_autumn_change_repeats_fires_once() -> None:
    # New York goes back from 02:00 to 01:00 on 2026-11-01: 01:30 happens twice.
    schedule = parse_schedule("cron(30 1 * * ? *)", start=START, timezone="America/New_York")
    before = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    first = schedule.next_after(before)
    assert first is not None
    second = schedule.next_after(first)
    assert first.strftime("%Y-%m-%d %H:%M") == "2026-11-01 05:30"  # 01:30 EDT
    assert second is not None
    assert second.strftime("%Y-%m-%d %H:%M") == "2026-11-02 06:30"  # 01:30 EST, a day on
    # From inside the repeated hour the next firing is still after the moment asked.
    inside = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST
    following = schedule.next_after(inside)
    assert following is not None
    assert following > inside


def test_at_fires_once() -> None:
    assert firings("at(2026-03-02T11:00:00)", 3) == ["Mon 2026-03-02 11:00"]


def test_at_is_a_wall_clock_time_of_the_timezone() -> None:
    assert firings("at(2026-03-02T12:00:00)", 1, timezone="Europe/Paris") == [
        "Mon 2026-03-02 11:00"
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(5 weeks)",
        "rate(1 hours)",
        "rate(2 day)",
        "cron(* * * * *)",
        "cron(0 0 * * * *)",
        "cron(99 * * * ? *)",
        "every day",
        "at(2026-03-02)",
        "at(2026-03-02 11:00:00)",
        "at(2026-13-02T11:00:00)",
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression, start=START)


def test_an_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone"):
        parse_schedule("cron(0 9 * * ? *)", start=START, timezone="Mars/Olympus")
