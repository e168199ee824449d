"""Subscriptions delivered to real brokers on 127.0.0.1: MQTT (Mosquitto), Redis Streams, AMQP (RabbitMQ).
Skipped with the reason when a broker is unreachable; a failure when LOWCODE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import json
import socket
import threading
import uuid

from tests.dbs import skip_or_fail

from .conftest import create


def _reachable(port: int, name: str) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError as exc:
        skip_or_fail(f"{name} is not reachable at 127.0.0.1:{port}: {exc}")


def _sub(name: str, channel: dict) -> dict:
    return {"name": name, "entity": "item", "events": ["created"], "channel": channel}


def test_mqtt_receives_each_event_with_its_id(install, api, loop):
    _reachable(1883, "Mosquitto")
    import paho.mqtt.client as mqtt

    topic = f"lowcode-test/{uuid.uuid4().hex}"
    got: list[dict] = []
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_message = lambda _c, _u, msg: got.append(json.loads(msg.payload))
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        install([_sub("to_mqtt", {"kind": "mqtt", "topic": topic})])
        made = [create(api, name=f"m{i}", qty=i) for i in range(3)]
        loop.until(lambda: len(got) == 3)
    finally:
        client.loop_stop()
        client.disconnect()
    assert [e["record_id"] for e in got] == [m["id"] for m in made]
    assert all(e["version"] == 1 and e["id"].startswith("msg_") for e in got)


def test_redis_stream_receives_each_event_with_its_id(install, api, loop):
    _reachable(6379, "Redis")
    import redis

    stream = f"lowcode-test-{uuid.uuid4().hex}"
    r = redis.Redis(host="127.0.0.1", port=6379)
    try:
        install([_sub("to_redis", {"kind": "redis_stream", "stream": stream})])
        made = [create(api, name=f"r{i}", qty=i) for i in range(3)]
        loop.until(lambda: r.xlen(stream) == 3)
        entries = r.xrange(stream)
    finally:
        r.delete(stream)
    bodies = [json.loads(fields[b"body"]) for _id, fields in entries]
    assert [b["record_id"] for b in bodies] == [m["id"] for m in made]
    assert [fields[b"id"].decode() for _id, fields in entries] == [b["id"] for b in bodies]


def test_amqp_queue_receives_each_event_and_an_unroutable_one_fails(app, install, api, loop):
    _reachable(5672, "RabbitMQ")
    import pika

    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    channel = connection.channel()
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    try:
        install(
            [
                _sub("to_amqp", {"kind": "amqp", "exchange": "", "routing_key": queue}),
                _sub("nowhere", {"kind": "amqp", "exchange": "", "routing_key": f"none-{uuid.uuid4().hex}"}),
            ]
        )
        made = create(api, name="a", qty=1)
        got: list[dict] = []

        def drained() -> bool:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is not None:
                got.append({"props": props, "body": json.loads(body)})
            return len(got) == 1

        loop.until(drained)
        health = api.get("/api/integrations/health").get_json()["subscriptions"]
        loop.until(
            lambda: any(h["failing"] for h in api.get("/api/integrations/health").get_json()["subscriptions"])
        )
    finally:
        connection.close()
    assert got[0]["body"]["record_id"] == made["id"]
    assert got[0]["props"].message_id == got[0]["body"]["id"]
    nowhere = [
        h
        for h in api.get("/api/integrations/health").get_json()["subscriptions"]
        if h["subscription"] == "nowhere"
    ]
    assert "not routed" in nowhere[0]["last_error"]
    assert health  # the health answer lists both subscriptions
