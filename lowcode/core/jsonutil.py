"""JSON in and out without floats: decimals travel as strings, numbers with a fraction parse to Decimal."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from lowcode.errors import BadRequest


def to_jsonable(value: Any) -> Any:
    """Convert one Python value to a JSON-safe value (Decimal -> str, date/datetime -> ISO 8601)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any, **kw: Any) -> str:
    """``json.dumps`` that understands Decimal, date and datetime."""
    return json.dumps(value, default=_default, ensure_ascii=False, **kw)


def _default(value: Any) -> Any:
    if isinstance(value, (Decimal, dt.date, dt.datetime)):
        return to_jsonable(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_depth(text: str) -> int:
    """Deepest nesting of arrays/objects in a JSON text, computed without parsing (strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_exact(text: str | bytes, max_depth: int = 32) -> Any:
    """Parse a request body: fractions become Decimal, nesting deeper than ``max_depth`` is refused.

    :raises BadRequest: on malformed JSON or excessive nesting.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("Request body is not valid UTF-8") from exc
    if json_depth(text) > max_depth:
        raise BadRequest(f"JSON nesting is deeper than the limit of {max_depth}")
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
