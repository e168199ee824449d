"""Whole numbers in query strings, read strictly: ASCII digits only, bounded, or a 400 naming the parameter.

Used by the API routes and the pages alike, so ``"²"``, ``"١٢"``, ``"-1"``, ``"1_000"`` and forty digits
are the same clear refusal everywhere (never a crash in ``int()``).
"""

from __future__ import annotations

from collections.abc import Mapping

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
