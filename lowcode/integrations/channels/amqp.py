"""AMQP channel (pika): the message published to the subscription's exchange with its routing key,
persistent, with publisher confirms (an unroutable message is a failure). Broker: ``AMQP_URL`` (default
``amqp://guest:guest@127.0.0.1:5672/%2F``). A connection per call: pika's blocking connection is not
thread-safe and calls come from the dispatcher's pool."""

from __future__ import annotations

import pika
import pika.exceptions

from lowcode.integrations.channels.base import DeliveryFailed, OutboundChannel, timeout_of

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


class AmqpOut(OutboundChannel):
    """``{"kind": "amqp", "exchange": ..., "routing_key": ...}``."""

    kind = "amqp"

    def send(self, message, settings):
        timeout = timeout_of(settings, "AMQP_TIMEOUT")
        params = pika.URLParameters(str(settings.get("AMQP_URL") or DEFAULT_URL))
        params.socket_timeout = timeout
        params.blocked_connection_timeout = timeout
        params.stack_timeout = timeout
        try:
            connection = pika.BlockingConnection(params)
        except pika.exceptions.AMQPError as exc:
            raise DeliveryFailed(f"AMQP broker unreachable: {type(exc).__name__}") from exc
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(
                exchange=str(message.target.get("exchange", "")),
                routing_key=str(message.target.get("routing_key", "")),
                body=message.body,
                properties=pika.BasicProperties(
                    message_id=message.message_id, content_type="application/json", delivery_mode=2
                ),
                mandatory=True,
            )
        except pika.exceptions.UnroutableError as exc:
            raise DeliveryFailed("AMQP: the message was not routed to any queue") from exc
        except pika.exceptions.AMQPError as exc:
            raise DeliveryFailed(f"AMQP: {type(exc).__name__}: {exc}") from exc
        finally:
            if connection.is_open:
                connection.close()
