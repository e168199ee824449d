"""Outbound integrations: subscriptions (a definition kind), per-subscription deliveries (``lc_delivery``)
made from outbox record events, the outbound channels (webhook, MQTT, Redis Streams, AMQP), the concurrent
dispatcher, replay and health."""
