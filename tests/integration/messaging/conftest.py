"""Fixtures of the messaging tests: a real local HTTP endpoint and the sales app with its users."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ApiClient, login

from .sales_bundle import sales_bundle

PASSWORD = "user-pass-123"


class Hook:
    """What the endpoint received, and the statuses it answers with next (200 when none are queued)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: deque[int] = deque()
        self.delay = 0.0
        self.lock = threading.Lock()
        self.url = ""

    def bodies(self) -> list[bytes]:
        return [r["body"] for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def _receive(self):
        hook: Hook = self.server.hook  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with hook.lock:
            hook.requests.append({"method": self.command, "path": self.path, "body": body,
                                  "headers": {k.lower(): v for k, v in self.headers.items()}})  # fmt: skip
            status = hook.statuses.popleft() if hook.statuses else 200
        if hook.delay:
            time.sleep(hook.delay)  # keeps a delivery in flight while another dispatcher runs
        answer = b"ok" if status < 400 else b"endpoint is down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_PUT = do_PATCH = _receive

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def app_config() -> dict:
    """The receivers here listen on 127.0.0.1, which webhooks may only call when allowed."""
    return {"WEBHOOK_ALLOW": "127.0.0.1"}


@pytest.fixture
def hook():
    """A real HTTP server on 127.0.0.1 (port chosen by the OS), in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hook = Hook()  # type: ignore[attr-defined]
    server.hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/orders"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.hook  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def sales(app, api, hook):
    """The sales app imported as a bundle; users: alice and bob (managers), carol (no role), dave (clerk),
    erin (a manager whose assignment has ended). Returns ``{username: id}``."""
    response = api.post("/api/templates/import", json=sales_bundle(hook.url))
    assert response.status_code == 201, response.get_json()
    users = {}
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with app.extensions["lowcode"].db.write() as s:
        for name, role in [("alice", "manager"), ("bob", "manager"), ("carol", None), ("dave", "clerk"),
                           ("erin", "manager")]:  # fmt: skip
            user = create_user(s, name, PASSWORD)
            users[name] = user.id
            if role:
                ended = past + dt.timedelta(days=1) if name == "erin" else None
                s.add(RoleAssignment(user_id=user.id, app="sales", role=role, granted_by="test",
                                     starts_at=past, ends_at=ended))  # fmt: skip
    return users


def client_for(app, username: str) -> ApiClient:
    """An API client signed in as ``username``."""
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def new_order(client: ApiClient, **values) -> dict:
    response = client.post("/api/data/sales/sales_order", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def confirm(client: ApiClient, order: dict):
    url = f"/api/data/sales/sales_order/{order['id']}"
    return client.patch(url, json={"status": "confirmed", "version": order["version"]})
