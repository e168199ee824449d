"""The webhook channel of subscriptions: a signed POST of the message to the subscription's URL."""

from __future__ import annotations

import time
from collections.abc import Callable

from lowcode.integrations.channels.base import DeliveryFailed, OutboundChannel, timeout_of
from lowcode.integrations.channels.http_post import post_signed
from lowcode.integrations.subscriptions import webhook_secret_for
from lowcode.webhook_targets import Resolver, system_resolver


class WebhookOut(OutboundChannel):
    """``{"kind": "webhook", "url": ..., "secret": <name>}``: Standard Webhooks headers, the secret named by
    reference (:func:`lowcode.integrations.subscriptions.webhook_secret_for`), ``WEBHOOK_TIMEOUT``."""

    kind = "webhook"

    def __init__(self, clock: Callable[[], float] = time.time, resolver: Resolver = system_resolver):
        self.clock = clock
        self.resolver = resolver

    def send(self, message, settings):
        try:
            secret = webhook_secret_for(message.target, settings)
        except LookupError as exc:
            raise DeliveryFailed(str(exc)) from exc
        post_signed(
            str(message.target.get("url", "")),
            message.body,
            message.message_id,
            str(int(self.clock())),
            secret,
            {"X-Lowcode-Delivery-Attempt": str(message.attempt)},
            settings,
            self.resolver,
            timeout_of(settings, "WEBHOOK_TIMEOUT"),
        )
