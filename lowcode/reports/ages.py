"""Age buckets of a date dimension: how many days a date lies before an as-of date, grouped into bands -
``{"field": "due_date", "bucket": "age", "as_of": "as_of", "limits": [30, 60, 90]}`` groups by ``0-30``,
``31-60``, ``61-90`` and ``90+`` (more than 90 days) days past ``due_date`` on the date parameter ``as_of``
(today when it is not given); a date on or after the as-of date is in the first band, an empty date in
none. The key is computed in SQL (one CASE over the day difference), so totals, pivots, top-N and drill-down
work on it as on any other dimension; keys sort by band, not as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Ages:
    """The bands of an age dimension: ``limits`` (ascending day counts) and the date parameter ``as_of``."""

    as_of: str
    limits: tuple[int, ...]

    @property
    def keys(self) -> list[str]:
        """The band keys in order: ``0-30``, ``31-60``, ..., ``90+``."""
        lows = [0] + [limit + 1 for limit in self.limits[:-1]]
        return [f"{low}-{high}" for low, high in zip(lows, self.limits, strict=True)] + [
            f"{self.limits[-1]}+"
        ]

    def order(self, key: Any) -> int:
        """A key's place (unknown keys and None last)."""
        keys = self.keys
        return keys.index(key) if key in keys else len(keys)

    def days(self, column: Any, as_of: dt.date, dialect: str) -> Any:
        """Whole days from ``column`` (a date, or a date-time's date) to ``as_of``.

        Written with literals, not bound parameters: PostgreSQL matches a SELECT expression to its GROUP BY
        one by text, and two parameters would not match."""
        day = sa.literal_column(f"'{as_of.isoformat()}'")
        if dialect == "postgresql":
            return sa.cast(day, sa.Date) - sa.cast(column, sa.Date)
        return sa.cast(sa.func.julianday(day) - sa.func.julianday(sa.func.date(column)), sa.Integer)

    def sql(self, column: Any, as_of: dt.date, dialect: str) -> Any:
        """The band key of ``column`` on ``as_of`` (None for an empty date)."""
        days = self.days(column, as_of, dialect)
        keys = [sa.literal_column(f"'{k}'", sa.String()) for k in self.keys]
        whens = [(column.is_(None), sa.null())]
        whens += [
            (days <= sa.literal_column(str(limit)), key)
            for limit, key in zip(self.limits, keys[:-1], strict=True)
        ]
        return sa.case(*whens, else_=keys[-1])

    def sort_sql(self, key_sql: Any) -> Any:
        """An ORDER BY expression putting the bands of ``key_sql`` in order."""
        return sa.case(
            *(
                (key_sql == sa.literal_column(f"'{k}'"), sa.literal_column(str(i)))
                for i, k in enumerate(self.keys)
            ),
            else_=sa.literal_column(str(len(self.keys))),
        )


def ages_from_doc(doc: dict[str, Any], date_params: set[str]) -> tuple[Ages | None, dict[str, str]]:
    """The age bands a dimension declares (None without ``bucket: age``) and problems by key."""
    if doc.get("bucket") != "age":
        problems = {k: "only an age bucket has it" for k in ("as_of", "limits") if k in doc}
        return None, problems
    problems = {}
    limits = tuple(doc.get("limits") or (30, 60, 90))
    if any(b <= a for a, b in zip(limits, limits[1:], strict=False)) or limits[0] < 1:
        problems["limits"] = "the limits are whole days, each larger than the one before"
    as_of = doc.get("as_of", "")
    if as_of not in date_params:
        problems["as_of"] = f"'{as_of}' is not a date parameter of the report"
    return Ages(as_of, limits), problems
