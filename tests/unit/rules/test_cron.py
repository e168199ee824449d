"""The five-field cron parser: what matches, the next run after a moment, time zones, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from lowcode.rules.cron import Cron, CronInvalid, CronSchedule, schedule_errors

D = dt.datetime
UTC = dt.UTC

# 2030-01-07 is a Monday.
MATCHES = [
    ("* * * * *", D(2030, 1, 7, 13, 37), True),
    ("0 8 * * *", D(2030, 1, 7, 8, 0), True),
    ("0 8 * * *", D(2030, 1, 7, 8, 0, 59), True),  # seconds are ignored
    ("0 8 * * *", D(2030, 1, 7, 8, 1), False),
    ("0 8 * * *", D(2030, 1, 7, 9, 0), False),
    ("*/15 * * * *", D(2030, 1, 7, 10, 45), True),
    ("*/15 * * * *", D(2030, 1, 7, 10, 50), False),
    ("5/20 * * * *", D(2030, 1, 7, 10, 45), True),  # 5, 25, 45
    ("5/20 * * * *", D(2030, 1, 7, 10, 5), True),
    ("10-20/5 * * * *", D(2030, 1, 7, 10, 15), True),
    ("10-20/5 * * * *", D(2030, 1, 7, 10, 25), False),
    ("0,30 9,17 * * *", D(2030, 1, 7, 17, 30), True),
    ("0,30 9,17 * * *", D(2030, 1, 7, 12, 30), False),
    ("0 9 * * 1-5", D(2030, 1, 7, 9, 0), True),  # Monday
    ("0 9 * * 1-5", D(2030, 1, 6, 9, 0), False),  # Sunday
    ("0 9 * * 0", D(2030, 1, 6, 9, 0), True),  # 0 is Sunday
    ("0 9 * * 7", D(2030, 1, 6, 9, 0), True),  # so is 7
    ("0 0 1 * *", D(2030, 2, 1, 0, 0), True),
    ("0 0 1 * *", D(2030, 2, 2, 0, 0), False),
    ("0 0 * 3 *", D(2030, 2, 1, 0, 0), False),
    ("0 0 1,15 * 1", D(2030, 1, 15, 0, 0), True),  # day of month or day of week (both restricted)
    ("0 0 1,15 * 1", D(2030, 1, 7, 0, 0), True),
    ("0 0 1,15 * 1", D(2030, 1, 8, 0, 0), False),
    ("0 0 * * 1", D(2030, 1, 8, 0, 0), False),  # only the weekday restricted
    ("0 0 8 * *", D(2030, 1, 8, 0, 0), True),  # only the day restricted
    ("59 23 31 12 *", D(2030, 12, 31, 23, 59), True),
]


@pytest.mark.parametrize(("text", "when", "expected"), MATCHES)
def test_matches(text, when, expected):
    assert Cron.parse(text).matches(when) is expected


NEXT = [
    ("* * * * *", D(2030, 1, 7, 13, 37, 20), D(2030, 1, 7, 13, 38)),  # strictly after, whole minutes
    ("0 8 * * *", D(2030, 1, 7, 7, 59), D(2030, 1, 7, 8, 0)),
    ("0 8 * * *", D(2030, 1, 7, 8, 0), D(2030, 1, 8, 8, 0)),  # not the same minute again
    ("*/15 8-18 * * 1-5", D(2030, 1, 4, 18, 50), D(2030, 1, 7, 8, 0)),  # Friday evening -> Monday
    ("0 0 1 * *", D(2030, 12, 15), D(2031, 1, 1)),  # across a year
    ("0 12 31 * *", D(2030, 1, 31, 13), D(2030, 3, 31, 12)),  # skips months without a 31st
    ("0 0 29 2 *", D(2030, 1, 1), D(2032, 2, 29)),  # the next leap day
    ("30 2 * * 0", D(2030, 1, 7), D(2030, 1, 13, 2, 30)),
    ("0 0 1,15 * 1", D(2030, 1, 1, 0, 0), D(2030, 1, 7)),  # a Monday before the 15th
    ("0 0 30 2 *", D(2030, 1, 1), None),  # never
]


@pytest.mark.parametrize(("text", "when", "expected"), NEXT)
def test_next_after(text, when, expected):
    found = Cron.parse(text).next_after(when)
    assert found == expected
    if found is not None:
        assert Cron.parse(text).matches(found)


INVALID = [
    ("", "5 fields"),
    ("* * * *", "5 fields"),
    ("* * * * * *", "5 fields"),
    ("60 * * * *", "minute: '60' is outside 0-59"),
    ("* 24 * * *", "hour: '24' is outside 0-23"),
    ("* * 0 * *", "day of month: '0' is outside 1-31"),
    ("* * * 13 *", "month: '13' is outside 1-12"),
    ("* * * * 8", "day of week: '8' is outside 0-7"),
    ("*/0 * * * *", "minute: step must be at least 1"),
    ("5-1 * * * *", "minute: range '5-1' runs backwards"),
    ("MON * * * *", "minute: 'MON' is not a number"),
    ("* * * * MON", "day of week: 'MON' is not a number"),
    ("1,,2 * * * *", "minute: '' is not a number"),
    ("-5 * * * *", "minute: '' is not a number"),
    ("@daily", "5 fields"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_expressions_name_the_field(text, message):
    with pytest.raises(CronInvalid) as info:
        Cron.parse(text)
    assert message in info.value.message


ZONED = [
    # 08:00 in Shanghai (UTC+8) is 00:00 UTC
    ({"cron": "0 8 * * *", "timezone": "Asia/Shanghai"}, D(2030, 1, 7, 0, 0, tzinfo=UTC), True),
    ({"cron": "0 8 * * *", "timezone": "Asia/Shanghai"}, D(2030, 1, 7, 8, 0, tzinfo=UTC), False),
    ({"cron": "0 8 * * *"}, D(2030, 1, 7, 8, 0, tzinfo=UTC), True),  # UTC by default
]


@pytest.mark.parametrize(("schedule", "when", "expected"), ZONED)
def test_the_schedule_matches_in_its_time_zone(schedule, when, expected):
    assert CronSchedule.from_schedule(schedule).matches(when) is expected


def test_next_after_in_a_time_zone_is_an_aware_instant():
    schedule = CronSchedule.from_schedule({"cron": "0 8 * * *", "timezone": "Asia/Shanghai"})
    found = schedule.next_after(D(2030, 1, 7, 0, 0, tzinfo=UTC))
    assert found.astimezone(UTC) == D(2030, 1, 8, 0, 0, tzinfo=UTC)


def test_daylight_saving_repeated_hour_runs_once_and_skipped_hour_still_runs():
    berlin = CronSchedule.from_schedule({"cron": "30 2 * * *", "timezone": "Europe/Berlin"})
    # 2030-10-27: clocks go back at 03:00 CEST -> 02:00 CET, so 02:30 happens twice; it runs at the first
    first = berlin.next_after(D(2030, 10, 26, 12, 0, tzinfo=UTC))
    assert first.astimezone(UTC) == D(2030, 10, 27, 0, 30, tzinfo=UTC)
    assert berlin.next_after(first).astimezone(UTC) == D(2030, 10, 28, 1, 30, tzinfo=UTC)
    # 2030-03-31: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist but the day's run still happens
    spring = berlin.next_after(D(2030, 3, 30, 12, 0, tzinfo=UTC))
    assert spring.astimezone(UTC).date() == dt.date(2030, 3, 31)
    assert berlin.next_after(spring).astimezone(UTC) == D(2030, 4, 1, 0, 30, tzinfo=UTC)


def test_schedule_errors_at_publish_time():
    assert schedule_errors(None, "rule:x/schedule") == {}
    assert schedule_errors({"cron": "0 8 * * *", "timezone": "Asia/Shanghai"}, "p") == {}
    assert schedule_errors({"cron": "0 0 31 2 *"}, "p") == {"p/cron": ["'0 0 31 2 *' matches no date"]}
    assert schedule_errors({"cron": "0 0 29 2 *"}, "p") == {}  # leap days exist
    assert schedule_errors({"cron": "0 25 * * *", "timezone": "Mars/Base"}, "p") == {
        "p/cron": ["hour: '25' is outside 0-23"],
        "p/timezone": ["unknown time zone 'Mars/Base'"],
    }


@pytest.mark.parametrize("field", ["²", "١", "1_0", "-1"])
def test_a_cron_number_in_another_script_is_refused_not_crashed_on(field):
    with pytest.raises(CronInvalid):
        Cron.parse(f"{field} * * * *")
