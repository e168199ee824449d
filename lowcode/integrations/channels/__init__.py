"""The outbound channel registry: one class per channel kind (webhook, mqtt, redis_stream, amqp)."""

from __future__ import annotations

from lowcode.registry import Registry


def builtin_outbound_channels():
    """A registry holding one instance of each built-in outbound channel, keyed by channel kind."""
    from lowcode.integrations.channels.amqp import AmqpOut
    from lowcode.integrations.channels.mqtt import MqttOut
    from lowcode.integrations.channels.redis_stream import RedisStreamOut
    from lowcode.integrations.channels.webhook import WebhookOut

    channels: Registry = Registry("outbound channel")
    for channel in (WebhookOut(), MqttOut(), RedisStreamOut(), AmqpOut()):
        channels.register(channel.kind, channel)
    return channels
