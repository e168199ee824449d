"""Date buckets of report dimensions (day, week, month, quarter, year): the SQL of each on SQLite and
PostgreSQL, giving the same text keys on both (``2026-03-09``, week = its Monday ``2026-03-09``, ``2026-03``,
``2026-Q1``, ``2026``; date-times in UTC as stored), and the dates a key covers (for drill-down)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.registry import Registry


@dataclass(frozen=True)
class Bucket:
    """One period: ``sql(column, dialect)`` -> its text key; ``bounds(key)`` -> (first day, first day after)."""

    name: str
    sqlite: str
    postgresql: str

    def sql(self, column: Any, dialect: str) -> Any:
        """The bucket's text key of ``column`` in ``dialect``."""
        if dialect == "postgresql":
            return sa.func.to_char(column, sa.literal_column(f"'{self.postgresql}'"), type_=sa.String())
        return sa.func.strftime(sa.literal_column(f"'{self.sqlite}'"), column, type_=sa.String())

    def bounds(self, key: str) -> tuple[dt.date, dt.date]:
        """The dates ``key`` covers: [first, after). :raises ValueError: for a key not of this bucket."""
        if self.name == "year":
            start = dt.date(int(key), 1, 1)
            return start, dt.date(start.year + 1, 1, 1)
        if self.name == "quarter":
            year, _q, quarter = key.partition("-Q")
            start = dt.date(int(year), 3 * (int(quarter) - 1) + 1, 1)
            return start, _months_after(start, 3)
        if self.name == "month":
            start = dt.date.fromisoformat(key + "-01")
            return start, _months_after(start, 1)
        start = dt.date.fromisoformat(key)
        return start, start + dt.timedelta(days=7 if self.name == "week" else 1)


class WeekBucket(Bucket):
    """ISO weeks keyed by their Monday (one spelling on both databases)."""

    def sql(self, column: Any, dialect: str) -> Any:
        if dialect == "postgresql":
            monday = sa.func.date_trunc("week", column)
            return sa.func.to_char(monday, sa.literal_column("'YYYY-MM-DD'"), type_=sa.String())
        # 'weekday 0' moves to the next Sunday (or stays on one); six days back is that week's Monday
        return sa.func.strftime(
            sa.literal_column("'%Y-%m-%d'"),
            column,
            sa.literal_column("'weekday 0'"),
            sa.literal_column("'-6 days'"),
            type_=sa.String(),
        )


class QuarterBucket(Bucket):
    """``2026-Q1``: SQLite has no quarter directive, so it is computed from the month."""

    def sql(self, column: Any, dialect: str) -> Any:
        if dialect == "postgresql":
            return super().sql(column, dialect)
        month = sa.cast(sa.func.strftime(sa.literal_column("'%m'"), column), sa.Integer())
        quarter = (month + 2) // 3
        year = sa.func.strftime(sa.literal_column("'%Y'"), column, type_=sa.String())
        return (year + sa.literal("-Q") + sa.cast(quarter, sa.String())).self_group()


def _months_after(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


buckets: Registry[Bucket] = Registry("date bucket")
for _bucket in (
    Bucket("day", "%Y-%m-%d", "YYYY-MM-DD"),
    WeekBucket("week", "", ""),
    Bucket("month", "%Y-%m", "YYYY-MM"),
    QuarterBucket("quarter", "", 'YYYY-"Q"Q'),
    Bucket("year", "%Y", "YYYY"),
):
    buckets.register(_bucket.name, _bucket)
