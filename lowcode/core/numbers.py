"""Numbers read from text strictly: ASCII digits, an optional sign, point and exponent - nothing else.

Python's ``Decimal()`` and ``int()`` also accept ``"1_000"`` (as 1000), other scripts' digits
(``"١٢"``) and surrounding whitespace; input that a person could have meant differently is refused.
"""

from __future__ import annotations

import re
from decimal import Decimal

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,9})?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
MAX_INT_DIGITS = 19
"""Most digits an integer read from text may have (a 64-bit integer has at most 19)."""


def decimal_from_text(text: str) -> Decimal:
    """``text`` (surrounding spaces allowed) as a Decimal.

    :raises ValueError: when it is not a plain decimal number (underscores, NaN, Infinity, other digits).
    """
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise ValueError(f"not a decimal number: {text[:40]!r}")
    return Decimal(stripped)


def int_from_text(text: str) -> int:
    """``text`` (surrounding spaces allowed) as an int of at most 19 digits.

    :raises ValueError: when it is not a plain whole number or has more digits.
    """
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped) or len(stripped.lstrip("+-")) > MAX_INT_DIGITS:
        raise ValueError(f"not a whole number of at most {MAX_INT_DIGITS} digits: {text[:40]!r}")
    return int(stripped)


def digits_to_int(text: str | None, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """``text`` as a whole number when it is 1 to ``max_digits`` ASCII digits and nothing else (no sign,
    spaces, underscores or other scripts' digits such as ``"²"`` or ``"١٢"``, which ``str.isdigit`` accepts
    and ``int`` may refuse); None otherwise. The one parser of numbers in query strings, headers and ids."""
    if text is None or not 0 < len(text) <= max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)
