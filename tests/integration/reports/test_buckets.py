"""Date buckets give the same keys on SQLite and PostgreSQL (run with LOWCODE_TEST_DB=postgresql too), for
dates and date-times, and each key's bounds cover the dates that fall in it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lowcode.reports.buckets import buckets

CASES = [
    # date, day, week (its Monday), month, quarter, year
    (dt.date(2026, 3, 1), "2026-03-01", "2026-02-23", "2026-03", "2026-Q1", "2026"),  # a Sunday
    (dt.date(2026, 3, 2), "2026-03-02", "2026-03-02", "2026-03", "2026-Q1", "2026"),  # a Monday
    (dt.date(2025, 12, 31), "2025-12-31", "2025-12-29", "2025-12", "2025-Q4", "2025"),
    (dt.date(2026, 1, 1), "2026-01-01", "2025-12-29", "2026-01", "2026-Q1", "2026"),  # week across the year
    (dt.date(2026, 7, 4), "2026-07-04", "2026-06-29", "2026-07", "2026-Q3", "2026"),
]
NAMES = ("day", "week", "month", "quarter", "year")


@pytest.mark.parametrize("kind", [sa.Date(), sa.DateTime()], ids=["date", "datetime"])
def test_bucket_keys_agree_on_this_database(app, kind):
    db = app.extensions["lowcode"].db
    with db.read() as session:
        dialect = session.get_bind().dialect.name
        for case in CASES:
            value = (
                case[0]
                if isinstance(kind, sa.Date) and not isinstance(kind, sa.DateTime)
                else dt.datetime.combine(case[0], dt.time(23, 59, 59))
            )
            literal = (
                sa.cast(sa.literal(value, kind), kind) if dialect == "postgresql" else sa.literal(value, kind)
            )
            keys = session.execute(sa.select(*[buckets.get(n).sql(literal, dialect) for n in NAMES])).one()
            assert tuple(keys) == case[1:], (dialect, case[0])
            for name, key in zip(NAMES, keys, strict=True):
                start, after = buckets.get(name).bounds(key)
                assert start <= case[0] < after
