"""JSON in and out without floats: decimals travel as strings, numbers with a fraction parse to Decimal."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from lowcode.errors import BadRequest

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""Where a JSON text may spell a surrogate (a backslash escape ``\\ud800``-``\\udfff``)."""
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def to_jsonable(value: Any) -> Any:
    """Convert one Python value to a JSON-safe value (Decimal -> str, date/datetime -> ISO 8601)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values (a hot path)
        return value
    if kind is dict:
        return {k: v if type(v) is str else to_jsonable(v) for k, v in value.items()}
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
    """Deepest nesting of arrays/objects in a JSON text, computed without parsing (strings are skipped):
    the strings cut out by a regular expression, then the brackets left counted; a text with a string
    the expression cannot close is scanned character by character."""
    bare = _STRING.sub("", text)
    if '"' in bare:
        return _scanned_depth(text)
    depth = deepest = 0
    for ch in _BRACKETS.findall(bare):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _scanned_depth(text: str) -> int:
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
        value = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text) or has_lone_surrogate(
        text
    ):  # only an escape can make one in text read from UTF-8
        refuse_lone_surrogates(value)
    return value


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate on its own (``"\\ud800"`` in JSON): no database stores it
    (PostgreSQL refuses it, UTF-8 cannot encode it)."""
    return _SURROGATE.search(text) is not None


def refuse_lone_surrogates(value: Any) -> None:
    """Refuse a parsed JSON value with a lone surrogate in any string, key or value.

    :raises BadRequest: naming where it is.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                raise BadRequest(f"Text at {path or '(root)'} holds a lone surrogate (not valid Unicode)")
        elif isinstance(item, dict):
            for key, sub in item.items():
                if has_lone_surrogate(key):
                    raise BadRequest(
                        f"A key at {path or '(root)'} holds a lone surrogate (not valid Unicode)"
                    )
                stack.append((f"{path}/{key}" if path else key, sub))
        elif isinstance(item, list):
            stack.extend((f"{path}/{i}" if path else str(i), sub) for i, sub in enumerate(item))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
