"""The outbox's delivery channels: the claimed event they are given, and the built-in channel registry.

``webhook`` makes an HTTP call (Standard Webhooks, https://www.standardwebhooks.com: the ``webhook-id``
header names the event and is the same on every attempt, ``webhook-timestamp`` is the attempt's Unix time,
``webhook-signature`` signs ``id.timestamp.body``); ``event`` (published events) and the record events
(``created``/``updated``/``deleted``/``restored``) go to local channels that do nothing yet - realtime pages
and brokers come later - or, for the record kinds, to the subscriptions' fan-out. Used by
:mod:`lowcode.delivery`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from lowcode.auth.lifecycle import as_utc
from lowcode.core.jsonutil import dumps
from lowcode.integrations.channels.http_post import post_signed
from lowcode.registry import Registry
from lowcode.webhook_signing import webhook_secret
from lowcode.webhook_targets import Resolver, system_resolver

DEFAULT_TIMEOUT = 10.0
"""Seconds a webhook call may take (``WEBHOOK_TIMEOUT`` setting)."""
RECORD_KINDS = ("created", "updated", "deleted", "restored")


@dataclass(frozen=True)
class PendingEvent:
    """A claimed outbox event; ``attempts`` counts this attempt."""

    id: int
    kind: str
    app: str
    entity: str
    record_id: int | None
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime | None = None

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the outbox row and when it was written (ids alone repeat after a restore)."""
        created = as_utc(self.created_at) if self.created_at else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        micros = (created - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
        return f"msg_{self.id}_{micros}"


class Channel:
    """Delivers the events of one or more outbox kinds."""

    local: ClassVar[bool] = False
    """Local channels do no I/O: they deliver inside the claiming transaction and are marked at once."""

    def deliver(self, event: PendingEvent, settings: Mapping[str, Any]) -> None:
        """Deliver one event. :raises DeliveryFailed: (any other exception counts as a failure too)"""
        raise NotImplementedError

    def deliver_in(self, session, event: PendingEvent, settings: Mapping[str, Any]) -> None:
        """A local channel's delivery inside the claiming transaction (``session``); default: :meth:`deliver`."""
        self.deliver(event, settings)


class LocalChannel(Channel):
    """Nothing to deliver to yet (realtime pages, brokers): the event is marked delivered."""

    local = True

    def deliver(self, event, settings):
        return None


class WebhookChannel(Channel):
    """An HTTP call with the event's JSON body (decimals as strings) and the Standard Webhooks headers
    ``webhook-id``, ``webhook-timestamp`` and - when a secret is configured (``WEBHOOK_SECRET`` setting or
    ``LOWCODE_WEBHOOK_SECRET``) - ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``.
    A 2xx answer is success. ``clock`` gives the attempt's Unix time. The host must not resolve to a local
    or private address unless ``WEBHOOK_ALLOW`` allows it (:mod:`lowcode.webhook_targets`); the call goes
    to the address that was checked (:func:`lowcode.integrations.channels.http_post.post_signed`)."""

    def __init__(self, clock: Callable[[], float] = time.time, resolver: Resolver = system_resolver):
        self.clock = clock
        self.resolver = resolver

    def deliver(self, event, settings):
        message = event.payload
        headers = {str(k): str(v) for k, v in (message.get("headers") or {}).items()}
        headers["X-Lowcode-Delivery-Attempt"] = str(event.attempts)
        post_signed(
            str(message.get("url", "")),
            dumps(message.get("body", {})).encode("utf-8"),
            event.message_id,
            str(int(self.clock())),
            webhook_secret(settings),
            headers,
            settings,
            self.resolver,
            float(settings.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT),
            str(message.get("method") or "POST"),
        )


def builtin_channels(record_channel: Channel | None = None) -> Registry[Channel]:
    """A registry holding the built-in channels, keyed by outbox kind; the record kinds go to
    ``record_channel`` (the subscriptions' fan-out, :mod:`lowcode.integrations.fanout`) or nowhere."""
    channels: Registry[Channel] = Registry("delivery channel")
    channels.register("webhook", WebhookChannel())
    channels.register("event", LocalChannel())  # published events: realtime pages and brokers come later
    for kind in RECORD_KINDS:
        channels.register(kind, record_channel or LocalChannel())
    return channels
