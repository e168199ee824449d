"""Fixtures of the outbound delivery tests: a receiver that de-duplicates on the event id, an app with a
subscriptions bundle, and a loop runner that steps the fan-out and dispatcher until a condition holds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lowcode.integrations.loop import IntegrationLoop


class Receiver:
    """An HTTP endpoint: ``down`` answers 503, ``hang`` sleeps that long first; keeps each event once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: list[dict] = []
        self.seen: dict[str, dict] = {}
        self.duplicates = 0
        self.down = False
        self.hang = 0.0
        self.url = ""

    def receive(self, headers, body: bytes) -> int:
        if self.hang:
            time.sleep(self.hang)
        if self.down:
            return 503
        event = json.loads(body)
        with self.lock:
            assert headers["webhook-id"] == event["id"]
            self.arrivals.append(event)
            if event["id"] in self.seen:
                self.duplicates += 1
            self.seen[event["id"]] = event
        return 200


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.receiver.receive({k.lower(): v for k, v in self.headers.items()}, body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(receiver: Receiver):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = receiver
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/in"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def receivers():
    """Two receivers (``a`` and ``b``) on 127.0.0.1."""
    made = {"a": Receiver(), "b": Receiver()}
    servers = [_serve(r) for r in made.values()]
    yield made
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app_config() -> dict:
    """Local receivers allowed; quick retries; 1 s webhook timeout; short leases."""
    return {
        "WEBHOOK_ALLOW": "127.0.0.1",
        "WEBHOOK_TIMEOUT": 1,
        "DELIVERY_BACKOFF_SECONDS": 0.05,
        "DELIVERY_BACKOFF_MAX_SECONDS": 0.2,
        "DELIVERY_LEASE_SECONDS": 3,
        "INTEGRATION_POLL_SECONDS": 0.01,
    }


def bundle(subscriptions: list[dict]) -> dict:
    """A one-entity app (``shop.item``: name, qty, status) with the given subscriptions."""
    return {
        "app": {"name": "shop", "label": "Shop"},
        "entities": [
            {"name": "item", "label": "Item", "fields": [
                {"name": "name", "type": "text"},
                {"name": "qty", "type": "integer"},
                {"name": "status", "type": "select", "default": "open",
                 "options": {"choices": [{"value": "open"}, {"value": "closed"}]}}]},
        ],
        "subscriptions": subscriptions,
    }  # fmt: skip


def webhook(name: str, url: str, **extra) -> dict:
    """A webhook subscription to every record event of ``item``."""
    return {
        "name": name,
        "entity": "item",
        "events": ["created", "updated", "deleted", "restored"],
        "channel": {"kind": "webhook", "url": url},
        **extra,
    }


@pytest.fixture
def install(api):
    """Import the shop bundle with the given subscriptions."""

    def run(subscriptions: list[dict]) -> None:
        response = api.post("/api/templates/import", json=bundle(subscriptions))
        assert response.status_code == 201, response.get_json()

    return run


@pytest.fixture
def loop(app):
    """The integration loop of the app, stepped by ``loop.until(check)``; closed at the end."""
    lp = IntegrationLoop(app.extensions["lowcode"])

    def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, "timed out waiting for deliveries"
            if lp.step() == 0:
                time.sleep(0.01)

    lp.until = until
    yield lp
    lp.dispatcher.close()


def create(api, **values) -> dict:
    """Create an ``item``; returns it."""
    response = api.post("/api/data/shop/item", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def update(api, record: dict, **values) -> dict:
    """Update an ``item`` at its version; returns it."""
    response = api.patch(f"/api/data/shop/item/{record['id']}", json={**values, "version": record["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
