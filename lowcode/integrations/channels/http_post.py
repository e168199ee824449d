"""One signed HTTP POST (Standard Webhooks headers), shared by the outbox's webhook rule action and the
subscriptions' webhook channel."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from lowcode.integrations.channels.base import DeliveryFailed
from lowcode.webhook_signing import BadSecret, sign, signing_key
from lowcode.webhook_targets import Resolver, UnsafeTarget, pinned_opener, resolve_target


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answering with a redirect has failed (a POST must not silently turn into a GET elsewhere)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def post_signed(
    url: str,
    body: bytes,
    message_id: str,
    timestamp: str,
    secret: str,
    headers: Mapping[str, str],
    settings: Mapping[str, Any],
    resolver: Resolver,
    timeout: float,
    method: str = "POST",
) -> None:
    """Send ``body`` to ``url`` (checked against the allow-list, connected to the checked address) with
    ``webhook-id``/``webhook-timestamp`` and, when ``secret`` is set, ``webhook-signature``; a 2xx answer is
    success. :raises DeliveryFailed:"""
    if not url.lower().startswith(("http://", "https://")):
        raise DeliveryFailed(f"not an http(s) URL: {url[:200]!r}")
    try:
        address = resolve_target(url, settings, resolver)
    except UnsafeTarget as exc:
        raise DeliveryFailed(f"refused: {exc}") from exc
    try:
        key = signing_key(secret)
    except BadSecret as exc:
        raise DeliveryFailed(str(exc)) from exc
    sent = {
        **headers,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "lowcode-webhook/1",
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
    }
    if key:
        sent["webhook-signature"] = sign(key, message_id, timestamp, body)
    request = urllib.request.Request(url, data=body, method=method, headers=sent)
    try:
        with pinned_opener(address, _NoRedirect()).open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip() if exc.fp else ""
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeliveryFailed(f"{type(exc).__name__}: {reason}") from exc
