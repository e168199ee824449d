"""The outbound channel contract: one class per channel kind, each sends one message or raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

DEFAULT_TIMEOUT = 10.0


class DeliveryFailed(Exception):
    """A channel could not deliver; the message is recorded as the delivery's ``last_error``."""


@dataclass(frozen=True)
class Message:
    """One delivery attempt: the stable event id, the JSON body (bytes), the subscription's channel
    definition (``target``) and which attempt this is."""

    message_id: str
    body: bytes
    target: Mapping[str, Any]
    attempt: int = 1


class OutboundChannel:
    """Sends messages of one channel kind (``kind`` in a subscription's ``channel``)."""

    kind: ClassVar[str] = ""

    def send(self, message: Message, settings: Mapping[str, Any]) -> None:
        """Deliver one message within the channel's timeout. :raises DeliveryFailed:"""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (the dispatcher calls it when it stops)."""
        return None


def timeout_of(settings: Mapping[str, Any], name: str) -> float:
    """A per-call timeout in seconds from the settings (``<name>``, else ``WEBHOOK_TIMEOUT``)."""
    return float(settings.get(name) or settings.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
