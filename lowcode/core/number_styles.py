"""Numbers as pages show them: a :class:`NumberStyle` (decimal places, currency, suffix) rendered for a
locale with Babel. The stored value stays exact; only its text is rounded (half up) to the places shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal


@dataclass(frozen=True)
class NumberStyle:
    """How a number is shown: between ``min_places`` and ``max_places`` decimals (trailing zeros beyond
    ``min_places`` dropped), with an ISO ``currency`` code after it for money, or a ``suffix`` (`` %``)."""

    min_places: int = 0
    max_places: int = 0
    currency: str | None = None
    suffix: str = ""
    money: bool = False
    """An amount of money (what a formula or rollup computed from it shows as, with or without currency)."""

    @classmethod
    def fixed(cls, places: int, currency: str | None = None, suffix: str = "") -> NumberStyle:
        """Always ``places`` decimals (money, costs with a declared precision)."""
        return cls(places, places, currency, suffix)

    @classmethod
    def amount(cls, places: int, currency: str | None) -> NumberStyle:
        """Money: always ``places`` decimals, then the currency code if there is one."""
        return cls(places, places, currency, money=True)

    @classmethod
    def trimmed(cls, places: int) -> NumberStyle:
        """Up to ``places`` decimals without trailing zeros (quantities: ``55``, ``2.5``)."""
        return cls(0, places)

    def pattern(self) -> str:
        """The CLDR number pattern (``#,##0.00##``) of this style."""
        decimals = "0" * self.min_places + "#" * (self.max_places - self.min_places)
        return "#,##0" + (f".{decimals}" if decimals else "")


StyleOf = Callable[[str | None, str], "NumberStyle | None"]
"""Resolves the style of another field: ``(child table field or None, field name)`` -> its style."""


def babel_locale(language: str) -> Locale:
    """The Babel locale of a language code (``zh-CN`` or ``zh_CN``), English when unknown."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def format_number(value: Any, style: NumberStyle, language: str) -> str:
    """``value`` as text in ``style`` for ``language`` ("" for None; ``str(value)`` if not a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    try:
        number = Decimal(value)
        shown = number.quantize(Decimal(1).scaleb(-style.max_places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not shown:
        shown = abs(shown)  # no "-0.00"
    locale = babel_locale(language)
    if style.currency:
        text = format_currency(
            shown, style.currency, format=style.pattern() + " ¤¤", locale=locale, currency_digits=False
        )
    else:
        text = format_decimal(shown, format=style.pattern(), locale=locale)
    return text + style.suffix
