"""Redis Streams channel (redis-py ``XADD``): fields ``id`` (the event id) and ``body`` (the JSON).
Server: ``INTEGRATION_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``)."""

from __future__ import annotations

import threading

import redis

from lowcode.integrations.channels.base import DeliveryFailed, OutboundChannel, timeout_of

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class RedisStreamOut(OutboundChannel):
    """``{"kind": "redis_stream", "stream": ..., "maxlen": n}`` (approximate trimming when set)."""

    kind = "redis_stream"

    def __init__(self) -> None:
        self._clients: dict[str, redis.Redis] = {}
        self._lock = threading.Lock()

    def _client(self, url: str, timeout: float) -> redis.Redis:
        with self._lock:
            if url not in self._clients:
                self._clients[url] = redis.Redis.from_url(
                    url, socket_timeout=timeout, socket_connect_timeout=timeout
                )
            return self._clients[url]

    def send(self, message, settings):
        timeout = timeout_of(settings, "REDIS_TIMEOUT")
        client = self._client(str(settings.get("INTEGRATION_REDIS_URL") or DEFAULT_URL), timeout)
        maxlen = message.target.get("maxlen")
        try:
            client.xadd(
                str(message.target["stream"]),
                {"id": message.message_id, "body": message.body},
                maxlen=maxlen,
                approximate=True,
            )
        except redis.RedisError as exc:
            raise DeliveryFailed(f"Redis: {type(exc).__name__}: {exc}") from exc

    def close(self):
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
