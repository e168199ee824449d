"""Webhook signatures of the Standard Webhooks scheme (https://www.standardwebhooks.com), symmetric variant.

The secret is shown and configured as ``whsec_`` + the base64 of 24 to 64 random bytes; the decoded bytes are
the HMAC-SHA256 key. The signed content is ``<webhook-id>.<webhook-timestamp>.<raw body>``, and the
``webhook-signature`` header carries ``v1,<base64 of the HMAC>`` (a space-separated list, so that a receiver
can accept the old and the new secret's signatures while a secret is rotated).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)
"""How many random bytes a secret holds, at least and at most."""


class BadSecret(ValueError):
    """The configured secret is not ``whsec_`` + base64 of 24 to 64 bytes."""


def webhook_secret(settings: Mapping[str, Any]) -> str:
    """The webhook signing secret, or "" when none is configured (requests then go unsigned)."""
    return str(settings.get("WEBHOOK_SECRET") or os.environ.get("LOWCODE_WEBHOOK_SECRET") or "")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (b"" for no secret). :raises BadSecret:"""
    if not secret:
        return b""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(SECRET_PREFIX) or not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise BadSecret(
            f"WEBHOOK_SECRET must be '{SECRET_PREFIX}' followed by the base64 of {SECRET_BYTES[0]} to "
            f"{SECRET_BYTES[1]} random bytes"
        )
    return key


def sign(key: bytes, message_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
