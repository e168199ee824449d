"""marshmallow fields that convert without floats and say clearly what is wrong."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

import marshmallow as ma

from lowcode.core.numbers import decimal_from_text


def decimal_places(dec: Decimal) -> int:
    """Digits after the point that are not trailing zeros, counted exactly (``normalize()`` would round to
    the context's 28 digits and overflow on huge exponents)."""
    _, digits, exponent = dec.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return 0 if trailing == len(digits) else max(0, -(exponent + trailing))


class ExactDecimalInput(ma.fields.Field):
    """Accepts Decimal, int or a decimal string (never float or bool); checks scale and precision."""

    default_error_messages = {
        "invalid": "Not a valid number.",
        "scale": "At most {scale} decimal places.",
        "precision": "Too many digits (at most {digits} before the decimal point).",
        "float": "Floating-point numbers are not accepted; send a decimal string.",
    }

    def __init__(self, precision: int = 18, scale: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.precision = precision
        self.scale = scale

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise self.make_error("invalid")
        try:
            dec = decimal_from_text(value) if isinstance(value, str) else Decimal(value)
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not dec.is_finite():
            raise self.make_error("invalid")
        if decimal_places(dec) > self.scale:
            raise self.make_error("scale", scale=self.scale)
        if dec and dec.adjusted() + 1 > self.precision - self.scale:
            raise self.make_error("precision", digits=self.precision - self.scale)
        value = dec.quantize(Decimal(1).scaleb(-self.scale), context=Context(prec=max(self.precision, 28)))
        return value if value else abs(value)  # no negative zero

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(value, "f")


class IntegerInput(ma.fields.Field):
    """Accepts an int, an integral Decimal, or a digit string; refuses fractions instead of truncating."""

    default_error_messages = {"invalid": "Not a valid integer.", "range": "Out of range."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
            raise self.make_error("invalid")  # Decimal([1, [5], 0]) would be -5
        try:
            dec = decimal_from_text(value) if isinstance(value, str) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise self.make_error("invalid") from None
        if not dec.is_finite() or dec != dec.to_integral_value():
            raise self.make_error("invalid")
        if dec.adjusted() > 18:  # int() of "1e999999999" would run for minutes
            raise self.make_error("range")
        number = int(dec)
        if abs(number) > 2**63 - 1:
            raise self.make_error("range")
        return number
