"""Value helpers shared with the evaluator, the `Function` wrapper, and the built-in functions.

The module-level `functions` registry is filled with the built-ins when this module is imported,
so `compile_expression` works out of the box. `register_builtin_functions` can fill any other
`Registry` (for instance a fresh one a caller extends with its own functions).

Numbers are always `decimal.Decimal`: ints become ``Decimal(i)``, floats ``Decimal(str(f))``.
"""

from __future__ import annotations

import decimal
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

from lowcode.errors import ExpressionEvaluationError
from lowcode.registry import Registry

#: The arithmetic context: Python's default (28 significant digits), fixed so a caller's
#: thread-local context cannot change results.
DECIMAL_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def normalize(value: Any) -> Any:
    """Bring an input value into the language's domain: ints and floats become Decimal, tuples lists."""
    kind = type(value)
    if kind is Decimal or kind is str or kind is dict or kind is bool or value is None:  # the usual values
        return value
    if kind is int:
        return Decimal(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return value


_TYPE_NAMES = ((bool, "boolean"), (Decimal, "number"), (str, "text"), (datetime, "datetime"), (date, "date"))
_TYPE_NAMES += ((Mapping, "record"), (list, "list"), (type(None), "null"))


def type_name(value: Any) -> str:
    """A user-facing name for the type of ``value`` (``number``, ``text``, ``record``, ...)."""
    return next((name for cls, name in _TYPE_NAMES if isinstance(value, cls)), type(value).__name__)


def is_number(value: Any) -> bool:
    """True for Decimal values (booleans are never numbers)."""
    return isinstance(value, Decimal)


def as_bool(value: Any, where: str) -> bool:
    """Truth value of a condition: booleans as they are, null as false, anything else an error."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ExpressionEvaluationError(f"{where} expects true/false, got {type_name(value)}")


def orderable(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` may be ordered: both numbers, texts, dates or datetimes."""
    kind = type_name(a)
    return kind == type_name(b) and kind in ("number", "text", "date", "datetime")


def to_text(value: Any) -> str:
    """Render a value as text: null is '', booleans true/false, numbers without exponent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list):
        raise ExpressionEvaluationError(f"cannot convert a {type_name(value)} to text")
    return str(value)


def _number(value: Any, fn: str) -> Decimal:
    if not is_number(value):
        raise ExpressionEvaluationError(f"{fn}() expects a number, got {type_name(value)}")
    return value


def _integer(value: Any, fn: str) -> int:
    number = _number(value, fn)
    if number != number.to_integral_value():
        raise ExpressionEvaluationError(f"{fn}() expects a whole number, got {number}")
    return int(number)


@dataclass(frozen=True)
class Function:
    """A callable available to expressions, with its arity checked at compile time.

    :param impl: the implementation, called with the argument values.
    :param min_args: fewest arguments accepted.
    :param max_args: most arguments accepted; ``None`` for variadic.
    :param lazy: pass zero-argument callables instead of values (for ``if``, ``coalesce``).
    :param uses_names: pass the names mapping as the first argument (for ``today``, ``now``).
    """

    impl: Callable[..., Any]
    min_args: int = 0
    max_args: int | None = None
    lazy: bool = False
    uses_names: bool = False

    def __call__(self, *args: Any) -> Any:
        return self.impl(*args)


def as_function(item: Callable[..., Any]) -> Function:
    """Wrap a plain callable registered by a caller; its arity comes from its signature."""
    if isinstance(item, Function):
        return item
    try:
        params = inspect.signature(item).parameters.values()
    except (TypeError, ValueError):
        return Function(item)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    variadic = any(p.kind == p.VAR_POSITIONAL for p in params)
    return Function(item, required, None if variadic else len(positional))


def _if(cond: Callable[[], Any], then: Callable[[], Any], other: Callable[[], Any]) -> Any:
    return then() if as_bool(cond(), "if()") else other()


def _coalesce(*thunks: Callable[[], Any]) -> Any:
    for thunk in thunks:
        value = thunk()
        if value is not None:
            return value
    return None


def _round(value: Any, places: Any = Decimal(0)) -> Decimal | None:
    if value is None:
        return None
    number, n = _number(value, "round"), _integer(places, "round")
    result = number.quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)
    return result.quantize(Decimal(1), context=DECIMAL_CONTEXT) if n < 0 else result


def _abs(value: Any) -> Decimal | None:
    return None if value is None else DECIMAL_CONTEXT.abs(_number(value, "abs"))


def _extreme(pick: Callable[..., Any], fn: str) -> Callable[..., Any]:
    def extreme(*values: Any) -> Any:
        if len(values) == 1 and isinstance(values[0], list):
            values = tuple(values[0])
        present = [v for v in values if v is not None]
        if not present:
            return None
        for other in present[1:]:
            if not orderable(present[0], other):
                names = f"{type_name(present[0])} and {type_name(other)}"
                raise ExpressionEvaluationError(f"{fn}() cannot compare {names}")
        return pick(present)

    return extreme


def _sum(values: Any) -> Decimal:
    if values is None:
        return Decimal(0)
    if not isinstance(values, list):
        raise ExpressionEvaluationError(f"sum() expects a list, got {type_name(values)}")
    total = Decimal(0)
    for value in values:
        if value is not None:
            total = DECIMAL_CONTEXT.add(total, _number(value, "sum"))
    return total


def _len(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if not isinstance(value, str | list):
        raise ExpressionEvaluationError(f"len() expects text or a list, got {type_name(value)}")
    return Decimal(len(value))


def _join(values: Any, separator: Any, limit: Any = None) -> str:
    """``join(list, ', ')``: the values as text, in order, nulls left out; ``join(list, ', ', 10)`` the
    first 10 of them."""
    if values is None:
        return ""
    if not isinstance(values, list):
        raise ExpressionEvaluationError(f"join() expects a list, got {type_name(values)}")
    if not isinstance(separator, str):
        raise ExpressionEvaluationError(f"join() expects a text separator, got {type_name(separator)}")
    present = [v for v in values if v is not None]
    if limit is not None:
        count = _integer(limit, "join")
        if count < 0:
            raise ExpressionEvaluationError(f"join() expects a count of 0 or more, got {count}")
        present = present[:count]
    return separator.join(to_text(v) for v in present)


def _text_case(method: Callable[[str], str]) -> Callable[[Any], str | None]:
    def convert(value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ExpressionEvaluationError(f"{method.__name__}() expects text, got {type_name(value)}")
        return None if value is None else method(value)

    return convert


def _clock(key: str, default: Callable[[], Any]) -> Callable[[Mapping[str, Any]], Any]:
    def clock(names: Mapping[str, Any]) -> Any:
        return normalize(names[key]) if key in names else default()

    return clock


def _date_add_days(value: Any, days: Any) -> date | None:
    if value is None or days is None:
        return None
    if not isinstance(value, date):
        raise ExpressionEvaluationError(f"date_add_days() expects a date, got {type_name(value)}")
    return value + timedelta(days=_integer(days, "date_add_days"))


def _date_part(part: str) -> Callable[[Any], Decimal | None]:
    def extract(value: Any) -> Decimal | None:
        if value is not None and not isinstance(value, date):
            raise ExpressionEvaluationError(f"{part}() expects a date, got {type_name(value)}")
        return None if value is None else Decimal(value.year if part == "year" else value.month)

    return extract


_DATE_TOKENS = re.compile(r"YYYY|YY|MM|DD|HH|mm|ss")


def _format_date(value: Any, pattern: Any) -> str | None:
    """``format_date(d, 'YYYY-MM')``: a date or date-time as text; tokens YYYY YY MM DD HH mm ss, the rest
    of the pattern is copied (a date has 00:00:00 as its time)."""
    if value is None:
        return None
    if not isinstance(value, date):
        raise ExpressionEvaluationError(f"format_date() expects a date, got {type_name(value)}")
    if not isinstance(pattern, str):
        raise ExpressionEvaluationError(f"format_date() expects a text pattern, got {type_name(pattern)}")
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    parts = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "HH": f"{moment.hour:02d}",
        "mm": f"{moment.minute:02d}",
        "ss": f"{moment.second:02d}",
    }
    return _DATE_TOKENS.sub(lambda m: parts[m.group(0)], pattern)


def register_builtin_functions(registry: Registry[Callable[..., Any]]) -> None:
    """Register the built-in functions in ``registry`` (raises DuplicateType if already there)."""
    builtins = {
        "if": Function(_if, 3, 3, lazy=True),
        "coalesce": Function(_coalesce, 1, None, lazy=True),
        "round": Function(_round, 1, 2),
        "abs": Function(_abs, 1, 1),
        "min": Function(_extreme(min, "min"), 1),
        "max": Function(_extreme(max, "max"), 1),
        "sum": Function(_sum, 1, 1),
        "len": Function(_len, 1, 1),
        "concat": Function(lambda *values: "".join(to_text(v) for v in values)),
        "join": Function(_join, 2, 3),
        "upper": Function(_text_case(str.upper), 1, 1),
        "lower": Function(_text_case(str.lower), 1, 1),
        "today": Function(_clock("$today", date.today), 0, 0, uses_names=True),
        "now": Function(_clock("$now", lambda: datetime.now(UTC)), 0, 0, uses_names=True),
        "date_add_days": Function(_date_add_days, 2, 2),
        "year": Function(_date_part("year"), 1, 1),
        "month": Function(_date_part("month"), 1, 1),
        "format_date": Function(_format_date, 2, 2),
        "text": Function(to_text, 1, 1),
    }
    for key, function in builtins.items():
        registry.register(key, function)


#: The default registry used by `compile_expression`; holds the built-ins from import time on.
functions: Registry[Callable[..., Any]] = Registry("expression function")
register_builtin_functions(functions)
