"""Five-field cron expressions for scheduled rules: ``minute hour day-of-month month day-of-week``.

Each field is ``*``, a number, a range ``a-b``, a step ``*/n``, ``a-b/n`` or ``a/n``, or a comma list of
those. Day of week runs 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day of month and day of week
are restricted, a day matches if either does. Names (``MON``, ``JAN``) and ``@daily`` are not supported.

:class:`Cron` works on wall-clock (naive) times; :class:`CronSchedule` adds the rule's time zone
(``schedule.timezone``, an IANA name, default UTC): ``"0 8 * * *"`` in ``Asia/Shanghai`` is 08:00 there.
A wall time skipped by a daylight-saving change runs at the instant zoneinfo maps it to; a wall time that
occurs twice runs once (at its first occurrence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lowcode.core.numbers import digits_to_int
from lowcode.errors import LowcodeError

FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
SEARCH_YEARS = 8
"""How far :meth:`Cron.next_after` looks (a 29 February that is also a Monday can take years)."""
_MINUTE = dt.timedelta(minutes=1)


class CronInvalid(LowcodeError):
    """A cron expression or time zone that cannot be used; the message says which part and why."""

    code = "cron_invalid"


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, name) if step_text else 1
        if step < 1:
            raise CronInvalid(f"{name}: step must be at least 1 in '{part}'")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, name), _number(last, name)
        else:
            start = _number(base, name)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high):
            raise CronInvalid(f"{name}: '{part}' is outside {low}-{high}")
        if start > end:
            raise CronInvalid(f"{name}: range '{part}' runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, name: str) -> int:
    number = digits_to_int(text, max_digits=4)
    if number is None:
        raise CronInvalid(f"{name}: '{text}' is not a number")
    return number


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression (sets of allowed values per field)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday ... 6 = Saturday (7 is folded into 0)."""
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Parse ``text``. :raises CronInvalid: naming the field and the part at fault."""
        parts = text.split() if isinstance(text, str) else []
        if len(parts) != 5:
            raise CronInvalid(f"'{text}': a cron expression has 5 fields (minute hour day month weekday)")
        minutes, hours, days, months, weekdays = (
            _field(p, name, lo, hi) for p, (name, lo, hi) in zip(parts, FIELDS, strict=True)
        )
        return cls(
            " ".join(parts),
            minutes,
            hours,
            days,
            months,
            frozenset(d % 7 for d in weekdays),
            days_restricted=parts[2] != "*",
            weekdays_restricted=parts[4] != "*",
        )

    def _day_matches(self, day: dt.date) -> bool:
        in_month = day.day in self.days
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def matches(self, when: dt.datetime) -> bool:
        """Whether the minute of ``when`` (wall clock; seconds ignored) is one of the expression's."""
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and self._day_matches(when.date())
        )

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        """The first matching minute strictly after ``when`` (wall clock, same tzinfo as ``when``), or
        None when there is none within :data:`SEARCH_YEARS` years (e.g. ``0 0 30 2 *``)."""
        t = when.replace(second=0, microsecond=0) + _MINUTE
        limit = t.replace(year=t.year + SEARCH_YEARS, month=1, day=1)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
            elif not self._day_matches(t.date()):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += _MINUTE
            else:
                return t
        return None


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression in a time zone, working on aware datetimes."""

    cron: Cron
    zone: ZoneInfo

    @classmethod
    def from_schedule(cls, schedule: Mapping[str, Any]) -> CronSchedule:
        """From a rule's ``schedule`` object. :raises CronInvalid:"""
        return cls(Cron.parse(schedule.get("cron", "")), zone(schedule.get("timezone") or "UTC"))

    def matches(self, when: dt.datetime) -> bool:
        """Whether the aware instant ``when`` falls in a matching minute of the zone's wall clock."""
        return self.cron.matches(when.astimezone(self.zone))

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        """The first instant strictly after the aware ``when`` whose wall-clock minute matches (aware, in
        the schedule's zone), or None."""
        wall = when.astimezone(self.zone).replace(tzinfo=None)
        while True:
            found = self.cron.next_after(wall)
            if found is None:
                return None
            instant = found.replace(tzinfo=self.zone)
            if instant > when:  # a repeated wall time after a fall-back can map to an earlier instant
                return instant
            wall = found


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``. :raises CronInvalid:"""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronInvalid(f"unknown time zone '{name}'") from exc


def _possible(text: str) -> Cron:
    """Parse ``text`` and refuse an expression no date matches (``0 0 31 2 *``). :raises CronInvalid:"""
    cron = Cron.parse(text)
    if cron.next_after(dt.datetime(2000, 1, 1)) is None:
        raise CronInvalid(f"'{cron.text}' matches no date")
    return cron


def schedule_errors(schedule: Mapping[str, Any] | None, path: str) -> dict[str, list[str]]:
    """Publish-time check of a rule's schedule: ``{path/cron or path/timezone: [message]}``."""
    if not schedule:
        return {}
    errors: dict[str, list[str]] = {}
    for key, check in (("cron", _possible), ("timezone", zone)):
        if key in schedule:
            try:
                check(schedule[key])
            except CronInvalid as exc:
                errors[f"{path}/{key}"] = [exc.message]
    return errors
