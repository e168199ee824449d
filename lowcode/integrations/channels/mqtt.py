"""MQTT channel (paho-mqtt): the message published to the subscription's topic, QoS 1 by default, and
acknowledged by the broker within the timeout. Broker: ``MQTT_URL`` (``mqtt://user:pass@host:port``)."""

from __future__ import annotations

import threading
import urllib.parse

import paho.mqtt.client as mqtt

from lowcode.integrations.channels.base import DeliveryFailed, OutboundChannel, timeout_of

DEFAULT_URL = "mqtt://127.0.0.1:1883"


class MqttOut(OutboundChannel):
    """``{"kind": "mqtt", "topic": ..., "qos": 0|1|2}``; one connected client per broker URL, reused."""

    kind = "mqtt"

    def __init__(self) -> None:
        self._clients: dict[str, mqtt.Client] = {}
        self._lock = threading.Lock()

    def _client(self, url: str, timeout: float) -> mqtt.Client:
        with self._lock:
            client = self._clients.get(url)
            if client is not None and client.is_connected():
                return client
            if client is not None:
                client.loop_stop()
            parts = urllib.parse.urlsplit(url)
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
            if parts.username:
                client.username_pw_set(
                    urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
                )
            connected = threading.Event()
            client.on_connect = lambda *_args: connected.set()
            try:
                client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
            except OSError as exc:
                raise DeliveryFailed(f"MQTT broker unreachable: {exc}") from exc
            client.loop_start()
            if not connected.wait(timeout):
                client.loop_stop()
                raise DeliveryFailed("MQTT broker did not accept the connection in time")
            self._clients[url] = client
            return client

    def send(self, message, settings):
        timeout = timeout_of(settings, "MQTT_TIMEOUT")
        client = self._client(str(settings.get("MQTT_URL") or DEFAULT_URL), timeout)
        qos = int(message.target.get("qos", 1))
        info = client.publish(str(message.target["topic"]), message.body, qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeliveryFailed(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryFailed(f"MQTT publish failed: {exc}") from exc
        if not info.is_published():
            raise DeliveryFailed("MQTT broker did not acknowledge in time")

    def close(self):
        with self._lock:
            for client in self._clients.values():
                client.disconnect()
                client.loop_stop()
            self._clients.clear()
