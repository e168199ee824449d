"""Report parameters: declared types (date, date range, link, choice, text, number), defaults (a value or a
relative period such as ``this_month``) and the reading of request values, each refusal naming the parameter.

A run's values are the condition variables ``$param.<name>`` (a date range: ``$param.<name>.from`` / ``.to``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lowcode.conditions.model import coerce
from lowcode.errors import BadRequest
from lowcode.registry import Registry

TYPES = ("date", "date_range", "link", "choice", "text", "number", "days_ago")
MAX_DAYS = 36500
MAX_TEXT = 200


def _quarter_start(d: dt.date) -> dt.date:
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _month_end(d: dt.date) -> dt.date:
    following = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _add_months(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


Period = Callable[[dt.date], tuple[dt.date, dt.date]]
periods: Registry[Period] = Registry("relative period")
"""Relative periods a date or date-range default may name: today -> (first day, last day)."""
for _name, _period in {
    "today": lambda d: (d, d),
    "this_week": lambda d: (
        d - dt.timedelta(days=d.weekday()),
        d - dt.timedelta(days=d.weekday()) + dt.timedelta(days=6),
    ),
    "this_month": lambda d: (d.replace(day=1), _month_end(d)),
    "last_month": lambda d: (_add_months(d, -1), d.replace(day=1) - dt.timedelta(days=1)),
    "this_quarter": lambda d: (_quarter_start(d), _month_end(_add_months(_quarter_start(d), 2))),
    "this_year": lambda d: (dt.date(d.year, 1, 1), dt.date(d.year, 12, 31)),
    "last_year": lambda d: (dt.date(d.year - 1, 1, 1), dt.date(d.year - 1, 12, 31)),
    "last_30_days": lambda d: (d - dt.timedelta(days=29), d),
}.items():
    periods.register(_name, _period)


@dataclass(frozen=True)
class Param:
    """A declared parameter."""

    name: str
    type: str
    label: Any = None
    entity: str | None = None
    choices: tuple[tuple[str, Any], ...] = ()
    required: bool = False
    default: Any = None

    def read(self, raw: Any, today: dt.date) -> Any:
        """``raw`` (text from a query string, a JSON value, or a ``{from, to}`` pair) as this parameter's
        value; None for nothing. :raises ValueError: saying what was expected."""
        if self.type == "date_range":
            if isinstance(raw, str) and raw in periods:
                start, end = periods.get(raw)(today)
                return {"from": start, "to": end}
            if not isinstance(raw, Mapping):
                raise ValueError(f"expected a date range (from, to) or one of: {', '.join(periods.keys())}")
            pair = raw
            low = _date(pair.get("from"), today)
            high = _date(pair.get("to"), today)
            if low is None and high is None:
                return None
            if low is not None and high is not None and low > high:
                raise ValueError("the start is after the end")
            return {"from": low, "to": high}
        if raw in (None, ""):
            return None
        if self.type == "date":
            return _date(raw, today)
        if self.type == "days_ago":
            return _days_ago(raw, today)
        if self.type == "link":
            value = coerce("integer", raw)
            if value <= 0:
                raise ValueError("expected a record id")
            return value
        if self.type == "number":
            return coerce("decimal", raw)
        text = coerce("text", raw)
        if len(text) > MAX_TEXT:
            raise ValueError(f"at most {MAX_TEXT} characters")
        if self.type == "choice" and text not in {v for v, _ in self.choices}:
            raise ValueError(f"not one of the choices ({', '.join(v for v, _ in self.choices)})")
        return text


def _date(raw: Any, today: dt.date) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str) and raw in periods:
        return periods.get(raw)(today)[0]
    return coerce("date", raw)


def _days_ago(raw: Any, today: dt.date) -> dt.date:
    """A number of days N (the date N days before today), or a date as it is."""
    text = str(raw).strip()
    if text.isdigit():
        days = int(text)
        if days > MAX_DAYS:
            raise ValueError(f"at most {MAX_DAYS} days")
        return today - dt.timedelta(days=days)
    try:
        return coerce("date", raw)
    except (ValueError, TypeError):
        raise ValueError("expected a number of days (0 or more) or a date") from None


def param_from_doc(doc: Mapping[str, Any]) -> Param:
    """A parameter from its definition. :raises ValueError: for a default that does not fit its type."""
    if doc["type"] == "link" and not doc.get("entity"):
        raise ValueError("a link parameter names its entity")
    if doc["type"] == "choice" and not doc.get("choices"):
        raise ValueError("a choice parameter lists its choices")
    param = Param(
        doc["name"],
        doc["type"],
        doc.get("label"),
        doc.get("entity"),
        tuple((c["value"], c.get("label")) for c in doc.get("choices", [])),
        bool(doc.get("required")),
        doc.get("default"),
    )
    if param.default is not None:
        try:
            param.read(param.default, dt.date(2000, 1, 1))
        except ValueError as exc:
            raise ValueError(f"default of '{param.name}': {exc}") from None
    return param


def read_params(params: tuple[Param, ...], given: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The values of a run: ``given`` (``{name: raw}``; a date range ``{name: {"from", "to"}}``) read by each
    parameter's type, defaults filled in, required ones demanded.

    :raises BadRequest: naming the parameter (``fields``: ``param.<name>`` -> message); an unknown name too."""
    declared = {p.name for p in params}
    unknown = sorted(set(given) - declared)
    if unknown:
        raise BadRequest(
            f"Unknown report parameter '{unknown[0]}'", fields={f"param.{unknown[0]}": ["unknown"]}
        )
    values: dict[str, Any] = {}
    for p in params:
        raw = given.get(p.name)
        try:
            value = p.read(raw, today) if raw not in (None, "", {}) else None
            if value is None and p.default is not None and p.name not in given:
                value = p.read(p.default, today)
        except (ValueError, TypeError) as exc:
            raise BadRequest(
                f"Report parameter '{p.name}': {exc}", fields={f"param.{p.name}": [str(exc)]}
            ) from None
        if value is None and p.required:
            raise BadRequest(
                f"Report parameter '{p.name}' is required", fields={f"param.{p.name}": ["required"]}
            )
        values[p.name] = value
    return values


def params_from_query(args: Mapping[str, str]) -> dict[str, Any]:
    """``param.x=...``, ``param.period.from=...`` query arguments as ``{name: raw}`` (others ignored)."""
    given: dict[str, Any] = {}
    for key, raw in args.items():
        if not key.startswith("param."):
            continue
        name, _sep, part = key[len("param.") :].partition(".")
        if part in ("from", "to"):
            given.setdefault(name, {})
            if isinstance(given[name], dict):
                given[name][part] = raw
        else:
            given[name] = raw
    return given


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as JSON (dates as ISO text, decimals as strings)."""

    def one(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: one(x) for k, x in v.items()}
        if isinstance(v, dt.date | Decimal):
            return str(v) if isinstance(v, Decimal) else v.isoformat()
        return v

    return {k: one(v) for k, v in values.items()}
