"""Personal data masked where an app's data is copied (a sandbox): a field whose options say ``personal``
gets a stand-in from the masker of its type. A stand-in is stable - the same value always becomes the same
stand-in, so duplicates stay duplicates and distinct values stay distinct - and keyed (an HMAC under the
deployment's secret), so it cannot be reversed by hashing guessed values (phone numbers are few).
A personal field of a type without a masker is emptied."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

from lowcode.fields.base import FieldDef
from lowcode.registry import Registry

Masker = Callable[[FieldDef, str, bytes], Any]
"""``(field definition, value, key)`` -> the stand-in (None: the field is emptied)."""
maskers: Registry[Masker] = Registry("personal data masker")


def is_personal(fdef: FieldDef) -> bool:
    """Whether a field holds personal data (``options.personal``)."""
    return fdef.options.get("personal") is True


def digest(key: bytes, value: str) -> str:
    """The keyed hex digest a stand-in is made from."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def mask_text(fdef: FieldDef, value: str, key: bytes) -> str | None:
    """``Masked 3f2a…`` within the field's length; emptied when the field's pattern would refuse it."""
    fake = f"Masked {digest(key, value)[:12]}"[: int(fdef.options.get("max_length", 255))]
    pattern = fdef.options.get("pattern")
    if pattern and re.fullmatch(pattern, fake) is None:
        return None
    return fake


def mask_long_text(fdef: FieldDef, value: str, key: bytes) -> str:
    """A masked paragraph."""
    return f"Masked text {digest(key, value)[:16]}"


def mask_email(fdef: FieldDef, value: str, key: bytes) -> str:
    """An address at ``example.com`` (a domain reserved for examples: nothing is ever sent there)."""
    return f"user.{digest(key, value)[:12]}@example.com"


def mask_phone(fdef: FieldDef, value: str, key: bytes) -> str:
    """A number starting 555 (the fictional range)."""
    return f"555-{int(digest(key, value)[:12], 16) % 10**8:08d}"


def register_maskers(registry: Registry[Masker] = maskers) -> None:
    """The maskers of the text-like types (idempotent)."""
    for name, masker in (
        ("text", mask_text),
        ("long_text", mask_long_text),
        ("email", mask_email),
        ("phone", mask_phone),
    ):
        if name not in registry:
            registry.register(name, masker)


def masked_values(
    fields: Mapping[str, FieldDef],
    values: Mapping[str, Any],
    key: bytes,
    registry: Registry[Masker] = maskers,
) -> dict[str, Any]:
    """``values`` with each personal field's value replaced by its stand-in (empty values stay empty)."""
    out = dict(values)
    for name, fdef in fields.items():
        value = out.get(name)
        if name not in out or not is_personal(fdef) or value in (None, ""):
            continue
        out[name] = registry.get(fdef.type)(fdef, str(value), key) if fdef.type in registry else None
    return out


def mask_key_for(settings: Mapping[str, Any]) -> bytes:
    """The deployment's masking key, derived from its secret key (stand-ins differ between deployments)."""
    secret = str(settings.get("SECRET_KEY") or "")
    return hashlib.sha256(b"lowcode sandbox mask\0" + secret.encode("utf-8")).digest()
