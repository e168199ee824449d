"""Every stored field type survives a round trip through the API, and the server enforces the definition.

One app is published through the definitions API (draft PUT + publish, one entity at a time) and a copy of
it is installed through ``POST /api/templates/import`` (``publish_drafts``); the record tests run on both.
The database is created once for the module (SQLite by default, PostgreSQL with LOWCODE_TEST_DB=postgresql).
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.app import create_app
from lowcode.commands import ensure_admin
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import fresh_database

APP = "ft"
TEMPLATE_APP = "ftt"

TARGET = {
    "name": "target",
    "label": "Target",
    "fields": [{"name": "name", "type": "text"}],
}

LINE = {
    "name": "line",
    "label": "Line",
    "child": True,
    "fields": [
        {"name": "product", "type": "link", "options": {"entity": "target"}},
        {"name": "qty", "type": "decimal", "required": True, "options": {"scale": 3}},
        {"name": "price", "type": "money", "required": True},
        {"name": "amount", "type": "formula", "options": {"expression": "qty * price", "scale": 2}},
    ],
}

ITEM = {
    "name": "item",
    "label": {"en": "Item", "zh-CN": "条目"},
    "title_field": "title",
    "fields": [
        {
            "name": "code",
            "type": "autonumber",
            "unique": True,
            "options": {"pattern": "IT-{YYYY}{MM}-{####}"},
        },
        {"name": "title", "type": "text", "required": True, "unique": True, "options": {"max_length": 80}},
        {"name": "body", "type": "long_text"},
        {"name": "email", "type": "email"},
        {"name": "phone", "type": "phone"},
        {"name": "qty", "type": "integer"},
        {"name": "ratio", "type": "decimal", "options": {"precision": 12, "scale": 4}},
        {"name": "price", "type": "money", "options": {"currency": "EUR"}},
        {"name": "discount", "type": "percent"},
        {"name": "active", "type": "boolean"},
        {
            "name": "status",
            "type": "select",
            "default": "new",
            "options": {"choices": [{"value": "new"}, {"value": "done", "label": {"en": "Done"}}]},
        },
        {
            "name": "tags",
            "type": "multi_select",
            "options": {"choices": [{"value": "red"}, {"value": "blue"}]},
        },
        {"name": "due", "type": "date"},
        {"name": "at", "type": "datetime"},
        {"name": "target", "type": "link", "options": {"entity": "target"}},
        {"name": "assignee", "type": "user"},
        {"name": "files", "type": "attachment", "options": {"max_files": 3}},
        {"name": "lines", "type": "child_table", "options": {"entity": "line"}},
        {
            "name": "total",
            "type": "rollup",
            "options": {"child": "lines", "field": "amount", "function": "sum"},
        },
        {
            "name": "price_sum",
            "type": "rollup",
            "options": {"child": "lines", "field": "price", "function": "sum"},
        },
        {"name": "line_count", "type": "rollup", "options": {"child": "lines", "function": "count"}},
        {
            "name": "gross",
            "type": "formula",
            "options": {"expression": "price * (100 + coalesce(discount, 0)) / 100", "scale": 2},
        },
    ],
}

APP_DOC = {"name": APP, "label": "Field types", "menu": [{"entity": "item"}]}

STORED_TYPES = {
    "text", "long_text", "email", "phone", "integer", "decimal", "money", "percent", "boolean",
    "select", "multi_select", "date", "datetime", "link", "user", "attachment",
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One database for the module: app ``ft`` published through the definitions API, app ``ftt``
    installed as a template bundle, one target record in each."""
    tmp_path = tmp_path_factory.mktemp("fields")
    with fresh_database(tmp_path) as url:
        application = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret"})
        try:
            ensure_admin(application, "admin", ADMIN_PASSWORD)
            client = application.test_client()
            api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
            _publish_through_definitions_api(api)
            _install_as_template(api)
            admin_id = api.get("/api/auth/me").get_json()["id"]
            targets = {}
            for app in (APP, TEMPLATE_APP):
                response = api.post(f"/api/data/{app}/target", json={"name": "T1"})
                assert response.status_code == 201, response.get_json()
                targets[app] = response.get_json()["id"]
            yield {"app": application, "api": api, "admin_id": admin_id, "targets": targets}
        finally:
            application.extensions["lowcode"].db.dispose()


def _publish_through_definitions_api(api: ApiClient) -> None:
    response = api.put(f"/api/definitions/{APP}/app/{APP}", json=APP_DOC)
    assert response.status_code == 200, response.get_json()
    assert api.post(f"/api/definitions/{APP}/app/{APP}/publish").status_code == 200
    for doc in (TARGET, LINE, ITEM):  # targets first: a link or child table must point to a published entity
        response = api.put(f"/api/definitions/{APP}/entity/{doc['name']}", json=doc)
        assert response.status_code == 200, response.get_json()
        response = api.post(f"/api/definitions/{APP}/entity/{doc['name']}/publish")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["version"] == 1


def _install_as_template(api: ApiClient) -> None:
    bundle = {
        "app": {**APP_DOC, "name": TEMPLATE_APP},
        "entities": [copy.deepcopy(ITEM), copy.deepcopy(LINE), copy.deepcopy(TARGET)],  # any order
    }
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 201, response.get_json()
    published = {(p["kind"], p["name"]) for p in response.get_json()["published"]}
    assert published == {("app", TEMPLATE_APP), ("entity", "item"), ("entity", "line"), ("entity", "target")}


@pytest.fixture(params=[APP, TEMPLATE_APP], ids=["definitions-api", "template-import"])
def ctx(request, env):
    """(api, app name, target id, admin id) for each way of publishing."""
    app = request.param
    return env["api"], app, env["targets"][app], env["admin_id"]


_counter = iter(range(1, 10_000))


def _unique_title() -> str:
    return f"title-{next(_counter)}"


def _sample(target_id: int, admin_id: int) -> dict:
    return {
        "title": _unique_title(),
        "body": "line one\nline two - 中文",
        "email": "ann@example.com",
        "phone": "+86 (10) 1234-5678",
        "qty": 42,
        "ratio": "1.2345",
        "price": "12345678901234.56",
        "discount": "12.5",
        "active": True,
        "status": "done",
        "tags": ["blue", "red"],
        "due": "2026-11-05",
        "at": "2026-11-05T10:30:00+02:00",
        "target": target_id,
        "assignee": admin_id,
        "files": [{"name": "a.pdf", "key": "abcdefgh12", "size": 10}],
        "lines": [{"product": target_id, "qty": "2", "price": "0.1"}],
    }


def _total(api: ApiClient, app: str) -> int:
    response = api.get(f"/api/data/{app}/item?limit=1")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["total"]


def _line_rows(env, app: str) -> int:
    db = env["app"].extensions["lowcode"].db
    with db.read() as session:
        return session.execute(sa.text(f"SELECT count(*) FROM e_{app}_line")).scalar_one()


def test_item_has_every_stored_type():
    assert {f["type"] for f in ITEM["fields"]} >= STORED_TYPES
    assert {f["type"] for f in ITEM["fields"]} >= {"child_table", "formula", "rollup", "autonumber"}


def test_every_value_comes_back_equal_with_its_json_type(ctx):
    api, app, target_id, admin_id = ctx
    sent = _sample(target_id, admin_id)
    created = api.post(f"/api/data/{app}/item", json=sent)
    assert created.status_code == 201, created.get_json()
    record_id = created.get_json()["id"]
    response = api.get(f"/api/data/{app}/item/{record_id}")
    assert response.status_code == 200
    got = response.get_json()
    assert got == {**got, **created.get_json()}  # what the create returned is what is stored

    expected = {
        "title": sent["title"],
        "body": sent["body"],
        "email": "ann@example.com",
        "phone": "+86 (10) 1234-5678",
        "qty": 42,
        "ratio": "1.2345",
        "price": "12345678901234.56",
        "discount": "12.50",
        "active": True,
        "status": "done",
        "tags": ["blue", "red"],
        "due": "2026-11-05",
        "at": "2026-11-05T08:30:00Z",
        "target": target_id,
        "assignee": admin_id,
        "files": [
            {"name": "a.pdf", "key": "abcdefgh12", "size": 10, "content_type": "application/octet-stream"}
        ],
        "total": "0.20",
        "price_sum": "0.10",
        "line_count": 1,
        "gross": "13888888763888.88",  # 12345678901234.56 * 112.5 / 100, exactly
    }
    for name, value in expected.items():
        assert got[name] == value, name
        assert type(got[name]) is type(value), name
    assert got["code"].startswith("IT-") and len(got["code"]) == len("IT-202611-0001")
    assert got["lines"] == [
        {**got["lines"][0], "product": target_id, "qty": "2.000", "price": "0.10", "amount": "0.20"}
    ]
    assert isinstance(got["lines"][0]["id"], int)


def test_nulls_come_back_as_null(ctx):
    api, app, _, _ = ctx
    created = api.post(f"/api/data/{app}/item", json={"title": _unique_title()})
    assert created.status_code == 201, created.get_json()
    got = api.get(f"/api/data/{app}/item/{created.get_json()['id']}").get_json()
    nullable = [
        f["name"]
        for f in ITEM["fields"]
        if f["type"] in STORED_TYPES and f["name"] not in ("title", "status")
    ]
    assert {n: got[n] for n in nullable} == dict.fromkeys(nullable)
    assert got["status"] == "new"  # the default
    assert got["total"] == "0.00" and got["price_sum"] == "0.00" and got["line_count"] == 0
    assert got["gross"] is None
    assert got["lines"] == []


def test_a_rollup_of_three_tenths_is_exactly_three_tenths(ctx):
    api, app, target_id, _ = ctx
    lines = [{"qty": "1", "price": "0.1"} for _ in range(3)]
    created = api.post(f"/api/data/{app}/item", json={"title": _unique_title(), "lines": lines})
    assert created.status_code == 201, created.get_json()
    got = api.get(f"/api/data/{app}/item/{created.get_json()['id']}").get_json()
    assert got["price_sum"] == "0.30"
    assert got["total"] == "0.30"
    assert got["line_count"] == 3
    assert Decimal(got["price_sum"]) == Decimal("0.1") * 3


def test_autonumbers_are_consecutive(ctx):
    api, app, _, _ = ctx
    codes = []
    for _ in range(3):
        created = api.post(f"/api/data/{app}/item", json={"title": _unique_title()})
        assert created.status_code == 201, created.get_json()
        codes.append(created.get_json()["code"])
    numbers = [int(code.rsplit("-", 1)[1]) for code in codes]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_decimals_refuse_floats_and_extra_places(ctx):
    api, app, _, _ = ctx
    before = _total(api, app)
    # a JSON number with a fraction is parsed as an exact Decimal; 0.125 has too many places for money
    response = api.post(f"/api/data/{app}/item", json={"title": _unique_title(), "price": 0.125})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["price"] == ["At most 2 decimal places."]
    assert _total(api, app) == before


def _existing_title(api: ApiClient, app: str) -> str:
    title = _unique_title()
    assert api.post(f"/api/data/{app}/item", json={"title": title}).status_code == 201
    return title


MISSING = object()

INVALID = {
    "unique duplicate": (lambda api, app, t, u: {"title": _existing_title(api, app)}, "title"),
    "link to a missing record": (lambda api, app, t, u: {"target": t + 1000}, "target"),
    "link to a huge id": (lambda api, app, t, u: {"target": 2**62}, "target"),
    "unknown user": (lambda api, app, t, u: {"assignee": u + 1000}, "assignee"),
    "user id beyond int32": (lambda api, app, t, u: {"assignee": 2**40}, "assignee"),
    "required field missing": (lambda api, app, t, u: {"title": MISSING}, "title"),
    "required field null": (lambda api, app, t, u: {"title": None}, "title"),
    "select outside choices": (lambda api, app, t, u: {"status": "nope"}, "status"),
    "multi select outside choices": (lambda api, app, t, u: {"tags": ["red", "green"]}, "tags.1"),
    "computed formula written": (lambda api, app, t, u: {"gross": "1.00"}, "gross"),
    "computed rollup written": (lambda api, app, t, u: {"total": "1.00"}, "total"),
    "autonumber written": (lambda api, app, t, u: {"code": "IT-1"}, "code"),
    "system field written": (lambda api, app, t, u: {"created_by": u}, "created_by"),
    "bad email": (lambda api, app, t, u: {"email": "not-an-email"}, "email"),
    "bad phone": (lambda api, app, t, u: {"phone": "call me"}, "phone"),
    "phone with a trailing newline": (lambda api, app, t, u: {"phone": "+86 10 1234 5678\n"}, "phone"),
    "text with a NUL character": (lambda api, app, t, u: {"body": "a\x00b"}, "body"),
    "fractional integer": (lambda api, app, t, u: {"qty": Decimal("5.5")}, "qty"),
    "too many integer digits": (lambda api, app, t, u: {"price": "12345678901234567.00"}, "price"),
    "bad date": (lambda api, app, t, u: {"due": "2026-02-30"}, "due"),
    "too many files": (
        lambda api, app, t, u: {"files": [{"name": "x", "key": "abcdefgh12", "size": 1}] * 4},
        "files",
    ),
    "link in a child row to a missing record": (
        lambda api, app, t, u: {"lines": [{"qty": "1", "price": "1", "product": t + 1000}]},
        "lines.0.product",
    ),
    "child row missing a required field": (lambda api, app, t, u: {"lines": [{"qty": "1"}]}, "lines.0.price"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_write_is_422_naming_the_field_and_writes_nothing(case, ctx, env):
    api, app, target_id, admin_id = ctx
    make, field = INVALID[case]
    changes = make(api, app, target_id, admin_id)
    body = {"title": _unique_title(), "lines": [{"qty": "1", "price": "1"}], **changes}
    body = {k: v for k, v in body.items() if v is not MISSING}
    items_before, lines_before = _total(api, app), _line_rows(env, app)
    response = api.post(f"/api/data/{app}/item", json=_json_safe(body))
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert field in fields, fields
    assert all(isinstance(m, str) and m for m in fields[field])
    assert _total(api, app) == items_before
    assert _line_rows(env, app) == lines_before


def _json_safe(body: dict) -> dict:
    """Decimal -> a JSON number literal (the test client's encoder would refuse Decimal)."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in body.items()}


def test_unique_message_does_not_name_the_other_record(ctx):
    """The writer may not be allowed to see the record holding the value: its id is not revealed."""
    api, app, _, _ = ctx
    title = _unique_title()
    first = api.post(f"/api/data/{app}/item", json={"title": title})
    assert first.status_code == 201
    response = api.post(f"/api/data/{app}/item", json={"title": title})
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["title"][0]
    assert "unique" in message.lower() and str(first.get_json()["id"]) not in message
    assert message == "Must be unique: another record already has this value."


def test_update_keeps_the_autonumber_and_recomputes(ctx):
    api, app, _, _ = ctx
    created = api.post(
        f"/api/data/{app}/item", json={"title": _unique_title(), "price": "10", "discount": "10"}
    )
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    response = api.patch(
        f"/api/data/{app}/item/{record['id']}",
        json={"discount": "20", "lines": [{"qty": "0.5", "price": "3.34"}]},
        headers={"If-Match": f'"{record["version"]}"'},
    )
    assert response.status_code == 200, response.get_json()
    got = response.get_json()
    assert got["code"] == record["code"]
    assert got["gross"] == "12.00"
    assert got["total"] == "1.67"
    assert got["lines"][0]["amount"] == "1.67"
    assert got["version"] == 2


TOO_LARGE = {
    "formula": ({"price": "9999999999999999.99", "discount": "900"}, {"gross"}),
    "formula beyond its precision but within a SQLite BIGINT": (
        {"price": "9999999999999999.99", "discount": "100"},
        {"gross"},
    ),
    "rollup": ({"lines": [{"qty": "1", "price": "9999999999999999.99"}] * 2}, {"total", "price_sum"}),
}


@pytest.mark.parametrize("case", list(TOO_LARGE), ids=list(TOO_LARGE))
def test_a_computed_value_too_large_for_its_column_is_422(case, ctx, env):
    api, app, _, _ = ctx
    changes, fields = TOO_LARGE[case]
    items_before, lines_before = _total(api, app), _line_rows(env, app)
    response = api.post(f"/api/data/{app}/item", json={"title": _unique_title(), **changes})
    assert response.status_code == 422, response.get_json()
    message = response.get_json()["error"]["message"]
    assert message.split(":")[0] in fields and "too large" in message
    assert _total(api, app) == items_before
    assert _line_rows(env, app) == lines_before


UPDATES = {
    "select outside choices": ({"status": "nope"}, "status"),
    "computed field": ({"total": "1.00"}, "total"),
    "required field to null": ({"title": None}, "title"),
    "unique duplicate": ("duplicate", "title"),
    "link to a missing record": ({"target": 10**12}, "target"),
    "child row with a float price": ({"lines": [{"qty": "1", "price": "0.125"}]}, "lines.0.price"),
}


@pytest.mark.parametrize("case", list(UPDATES), ids=list(UPDATES))
def test_invalid_update_is_422_and_changes_nothing(case, ctx, env):
    api, app, _, _ = ctx
    created = api.post(
        f"/api/data/{app}/item", json={"title": _unique_title(), "lines": [{"qty": "1", "price": "2"}]}
    )
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    changes, field = UPDATES[case]
    if changes == "duplicate":
        changes = {"title": _existing_title(api, app)}
    lines_before = _line_rows(env, app)
    url = f"/api/data/{app}/item/{record['id']}"
    stored = api.get(url).get_json()
    response = api.patch(url, json=changes, headers={"If-Match": f'"{record["version"]}"'})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert api.get(url).get_json() == stored
    assert stored["version"] == record["version"]
    assert _line_rows(env, app) == lines_before
