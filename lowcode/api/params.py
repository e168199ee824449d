"""Whole numbers in query strings and URL paths, read strictly: ASCII digits only, bounded.

A query parameter that is not is a 400 naming it; a path segment does not match its route (404). Used by
the API routes and the pages alike, so ``"²"``, ``"١٢"``, ``"-1"``, ``"1_000"`` and forty digits are the
same clear refusal everywhere (never a crash in ``int()``, never ``"١٢"`` read as 12).
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.routing import BaseConverter, ValidationError

from lowcode.core.numbers import digits_to_int
from lowcode.errors import BadRequest

MAX_ID = 2**63 - 1
"""The largest id or version a client may name (64-bit signed)."""


def int_arg(
    args: Mapping[str, str], name: str, default: int | None, low: int = 0, high: int = MAX_ID
) -> int | None:
    """Query parameter ``name`` as a whole number from ``low`` to ``high`` (``default`` when absent or empty).

    :raises BadRequest: for anything else.
    """
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    value = digits_to_int(raw)
    if value is None or not low <= value <= high:
        span = f"from {low} to {high}" if high != MAX_ID else f"of at least {low}"
        raise BadRequest(f"'{name}' must be a whole number {span} (digits 0-9 only)")
    return value


class AsciiIntConverter(BaseConverter):
    """The ``<int:...>`` of every route: ASCII digits only, at most ``MAX_ID`` (werkzeug's own also takes
    other scripts' digits, so ``/records/١٢`` would read record 12). Anything else does not match: a 404."""

    regex = r"[0-9]{1,19}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        """The number, or no match when it is beyond 64 bits."""
        number = digits_to_int(value)
        if number is None or number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        """The id as plain digits."""
        return str(int(value))
