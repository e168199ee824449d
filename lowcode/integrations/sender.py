"""Sending one leased ``lc_delivery`` row through its subscription's channel as published now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from lowcode.core.db import Database
from lowcode.core.jsonutil import dumps
from lowcode.integrations.channels.base import DeliveryFailed, Message
from lowcode.integrations.lanes import MAX_ERROR
from lowcode.integrations.subscriptions import published_channels
from lowcode.registry import Registry

TARGETS_SECONDS = 5
"""How long the published subscriptions' channels are kept before they are read again."""


class DeliverySender:
    """Sends rows through the outbound channel registry; an error is returned as text, never raised."""

    def __init__(
        self,
        db: Database,
        settings: Mapping[str, Any],
        channels: Registry,
        clock: Callable[[], dt.datetime],
    ):
        self.db = db
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self._targets: tuple[dt.datetime, Mapping[tuple[str, str], Mapping[str, Any]]] | None = None

    def send(self, row: Mapping[str, Any]) -> str | None:
        """Send ``row``'s payload; None when the channel took it, else why not (at most ``MAX_ERROR``)."""
        payload = row["payload"] or {}
        target = self.target(row)
        if target is None:
            return f"subscription '{row['subscription']}' is no longer published"
        try:
            channel = self.channels.get(str(target.get("kind", "")))
            message = Message(row["message_id"], dumps(payload).encode("utf-8"), target, row["attempts"] + 1)
            channel.send(message, self.settings)
            return None
        except DeliveryFailed as exc:
            return str(exc)[:MAX_ERROR]
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried later
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]

    def target(self, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The subscription's channel as published now (read again every ``TARGETS_SECONDS``)."""
        now = self.clock()
        cached = self._targets
        if cached is None or cached[0] < now - dt.timedelta(seconds=TARGETS_SECONDS):
            with self.db.read() as session:
                cached = self._targets = (now, published_channels(session))
        return cached[1].get((row["app"], row["subscription"]))

    def close(self) -> None:
        """Close the channels' connections."""
        for channel in self.channels.all():
            channel.close()
