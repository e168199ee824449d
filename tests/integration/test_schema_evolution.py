"""Schema evolution through the definitions API: the publish plan, the trash, conversions with consent,
renames, indexes both ways, child tables, dry runs and all-or-nothing publishes (issue 8, item 1)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

APP = {"name": "shop", "label": "Shop"}
NAME = {"name": "name", "type": "text", "required": True}


def entity(*fields, name="item", **extra):
    """An entity body with a required name and the given fields."""
    return {"name": name, "label": name.title(), "fields": [NAME, *fields], **extra}


def put_and_publish(api, body, options=None, expect=200):
    """Save the draft, publish with options; returns the response JSON (asserting the status)."""
    put = api.put(f"/api/definitions/shop/entity/{body['name']}", json=body)
    assert put.status_code == 200, put.get_json()
    response = api.post(f"/api/definitions/shop/entity/{body['name']}/publish", json=options)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def ops(plan):
    """(op, field) of each step of a plan."""
    return [(s["op"], s["field"]) for s in plan["steps"]]


def step(plan, op, field):
    """The one step of a kind for a field."""
    (found,) = [s for s in plan["steps"] if s["op"] == op and s["field"] == field]
    return found


def columns(app, table="e_shop_item"):
    """Column names of a table as the database has them."""
    with app.extensions["lowcode"].db.read() as s:
        return {c["name"] for c in sa.inspect(s.connection()).get_columns(table)}


def indexes(app, table="e_shop_item"):
    """Index names of a table as the database has them."""
    with app.extensions["lowcode"].db.read() as s:
        return {ix["name"] for ix in sa.inspect(s.connection()).get_indexes(table)}


def create(api, **values):
    response = api.post("/api/data/shop/item", json={"name": "x", **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def read(api, record):
    return api.get(f"/api/data/shop/item/{record['id']}").get_json()


def setup_shop(api, *fields):
    assert api.put("/api/definitions/shop/app/shop", json=APP).status_code == 200
    assert api.post("/api/definitions/shop/app/shop/publish").status_code == 200
    return put_and_publish(api, entity(*fields))


def trash(api, entity_name="item"):
    return api.get(f"/api/definitions/shop/entity/{entity_name}/trash").get_json()["data"]


# -- hole 1: a removed field's column is never reused under a new meaning ---------------------------


def test_readding_a_removed_key_with_another_type_starts_empty_and_keeps_the_old_values(app, api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    record = create(api, qty=5)
    removed = put_and_publish(api, entity())
    assert ops(removed["plan"]) == [("trash_column", "qty")]
    readded = put_and_publish(api, entity({"name": "qty", "type": "money"}))
    assert read(api, record)["qty"] is None  # not 0.05: the integer 5 is not reinterpreted as cents
    (entry,) = trash(api)
    assert step(readded["plan"], "add_column", "qty")["trash_available"] == [entry["id"]]
    assert entry["field"]["type"] == "integer" and entry["values_count"] == 1
    with app.extensions["lowcode"].db.read() as s:
        kept = s.execute(sa.text(f"SELECT {entry['column']} FROM e_shop_item")).scalar()
    assert kept == 5
    # restoring it as money is refused (another type); restoring under its own type gives 5 back
    refused = api.post(f"/api/definitions/shop/entity/item/trash/{entry['id']}/restore")
    assert (
        refused.status_code == 409 and "already has a field 'qty'" in refused.get_json()["error"]["message"]
    )
    restored = api.post(
        f"/api/definitions/shop/entity/item/trash/{entry['id']}/restore", json={"as": "old_qty"}
    )
    assert restored.status_code == 200, restored.get_json()
    assert read(api, record)["old_qty"] == 5 and read(api, record)["qty"] is None


def test_readding_a_decimal_with_another_scale_does_not_rescale_old_values(api):
    setup_shop(api, {"name": "price", "type": "decimal", "options": {"scale": 3}})
    record = create(api, price="1.250")
    put_and_publish(api, entity())
    put_and_publish(api, entity({"name": "price", "type": "decimal", "options": {"scale": 2}}))
    assert read(api, record)["price"] is None  # on SQLite the stored 1250 would have read as 12.50
    api.put("/api/definitions/shop/entity/item", json=entity())  # back to no price, then restore
    api.post("/api/definitions/shop/entity/item/publish")
    entry = next(
        e for e in trash(api) if e["field"] == {"name": "price", "type": "decimal", "options": {"scale": 3}}
    )
    api.post(f"/api/definitions/shop/entity/item/trash/{entry['id']}/restore")
    assert read(api, record)["price"] == "1.250"


def test_an_orphan_column_left_by_an_earlier_platform_is_trashed_not_reused(app, api):
    setup_shop(api)
    record = create(api)
    with app.extensions["lowcode"].db.write() as s:  # what the old code left after removing an integer field
        s.execute(sa.text("ALTER TABLE e_shop_item ADD COLUMN qty BIGINT"))
        s.execute(sa.text("UPDATE e_shop_item SET qty = 5"))
    published = put_and_publish(api, entity({"name": "qty", "type": "money"}))
    assert ops(published["plan"])[:2] == [("trash_column", "qty"), ("add_column", "qty")]
    assert "orphan" in step(published["plan"], "trash_column", "qty")["reason"]
    assert read(api, record)["qty"] is None
    (entry,) = trash(api)
    assert entry["field"] is None and entry["values_count"] == 1
    restore = api.post(
        f"/api/definitions/shop/entity/item/trash/{entry['id']}/restore", json={"as": "legacy"}
    )
    assert restore.status_code == 400  # its type is unknown: it can only be purged


# -- type changes: the conversion hook, counts in the plan, consent ------------------------------------


def test_text_to_integer_counts_and_needs_consent_for_values_that_do_not_convert(app, api):
    setup_shop(api, {"name": "code", "type": "text"})
    good, bad, empty = create(api, code=" 12 "), create(api, code="abc"), create(api)
    api.put("/api/definitions/shop/entity/item", json=entity({"name": "code", "type": "integer"}))
    dry = api.post("/api/definitions/shop/entity/item/publish", json={"dry_run": True}).get_json()
    convert = step(dry["plan"], "convert_column", "code")
    assert (convert["rows"], convert["exact"], convert["lossy"], convert["failed"]) == (2, 1, 0, 1)
    assert convert["examples"] == [bad["id"]] and dry["plan"]["needs_consent"] == ["code"]
    assert dry["dry_run"] is True and read(api, good)["code"] == " 12 "  # nothing changed
    refused = api.post("/api/definitions/shop/entity/item/publish")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert "code" in error["fields"] and error["plan"]["needs_consent"] == ["code"]
    assert api.get("/api/definitions/shop/entity/item").get_json()["published_version"] == 1
    done = api.post("/api/definitions/shop/entity/item/publish", json={"consent": ["code"]})
    assert done.status_code == 200, done.get_json()
    assert [read(api, r)["code"] for r in (good, bad, empty)] == [12, None, None]
    (entry,) = trash(api)  # the original text stays restorable
    assert entry["reason"].startswith("converted from text to integer") and entry["values_count"] == 2
    assert create(api, code=7)["code"] == 7


def test_integer_to_money_converts_exactly_without_consent(api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    record = create(api, qty=5)
    published = put_and_publish(api, entity({"name": "qty", "type": "money"}))
    convert = step(published["plan"], "convert_column", "qty")
    assert (convert["exact"], convert["needs_consent"]) == (1, False)
    assert read(api, record)["qty"] == "5.00"


def test_decimal_scale_down_rounds_half_up_with_consent_and_scale_up_is_exact(api):
    setup_shop(
        api, {"name": "rate", "type": "decimal", "options": {"scale": 3}}, {"name": "tag", "type": "text"}
    )
    half, neg, exact = create(api, rate="1.235"), create(api, rate="-1.235"), create(api, rate="2.500")
    scale2 = entity(
        {"name": "rate", "type": "decimal", "options": {"scale": 2}}, {"name": "tag", "type": "text"}
    )
    refused = put_and_publish(api, scale2, expect=409)
    assert refused["error"]["plan"]["steps"][0]["lossy"] == 2
    put_and_publish(api, scale2, {"consent": ["rate"]})
    assert [read(api, r)["rate"] for r in (half, neg, exact)] == ["1.24", "-1.24", "2.50"]
    scale4 = entity(
        {"name": "rate", "type": "decimal", "options": {"scale": 4}}, {"name": "tag", "type": "text"}
    )
    published = put_and_publish(api, scale4)
    assert step(published["plan"], "convert_column", "rate")["needs_consent"] is False
    assert read(api, half)["rate"] == "1.2400"


def test_select_to_text_and_back_with_an_unknown_value(api):
    choices = {"choices": [{"value": "draft"}, {"value": "done"}]}
    setup_shop(api, {"name": "status", "type": "select", "options": choices})
    record = create(api, status="done")
    put_and_publish(api, entity({"name": "status", "type": "text"}))
    assert read(api, record)["status"] == "done"
    other = create(api, status="archived")
    narrowed = put_and_publish(
        api, entity({"name": "status", "type": "select", "options": choices}), expect=409
    )
    assert narrowed["error"]["plan"]["steps"][0]["failed"] == 1
    put_and_publish(
        api, entity({"name": "status", "type": "select", "options": choices}), {"consent": ["status"]}
    )
    assert (read(api, record)["status"], read(api, other)["status"]) == ("done", None)


def test_removing_a_choice_that_records_use_needs_consent_and_adding_one_changes_nothing(app, api):
    two = {"choices": [{"value": "a"}, {"value": "b"}]}
    setup_shop(api, {"name": "grade", "type": "select", "options": two})
    record = create(api, grade="b")
    three = {"choices": [{"value": "a"}, {"value": "b"}, {"value": "c", "color": "red"}]}
    assert (
        put_and_publish(api, entity({"name": "grade", "type": "select", "options": three}))["plan"]["steps"]
        == []
    )
    only_a = {"choices": [{"value": "a"}]}
    put_and_publish(api, entity({"name": "grade", "type": "select", "options": only_a}), expect=409)
    assert read(api, record)["grade"] == "b"


def test_text_shortening_truncates_only_with_consent_and_widening_keeps_values(api):
    setup_shop(api, {"name": "note", "type": "text", "options": {"max_length": 10}})
    record = create(api, note="0123456789")
    wider = put_and_publish(api, entity({"name": "note", "type": "text", "options": {"max_length": 50}}))
    assert ops(wider["plan"]) == [("widen_column", "note")]
    assert create(api, note="x" * 50)["note"] == "x" * 50
    shorter = entity({"name": "note", "type": "text", "options": {"max_length": 5}})
    assert put_and_publish(api, shorter, expect=409)["error"]["plan"]["steps"][0]["lossy"] == 2
    put_and_publish(api, shorter, {"consent": ["note"]})
    assert read(api, record)["note"] == "01234"


# -- renames -------------------------------------------------------------------------------------


def test_renaming_a_key_renames_the_column_and_keeps_the_data(app, api):
    setup_shop(api, {"name": "qty", "type": "integer", "indexed": True})
    record = create(api, qty=5)
    renamed = entity({"name": "quantity", "type": "integer", "indexed": True})
    published = put_and_publish(api, renamed, {"renames": {"qty": "quantity"}})
    assert ("rename_column", "quantity") in ops(published["plan"])
    assert read(api, record)["quantity"] == 5 and "qty" not in read(api, record)
    assert "ix_e_shop_item_quantity" in indexes(app) and "ix_e_shop_item_qty" not in indexes(app)
    assert "qty" not in columns(app) and trash(api) == []


def test_rename_and_convert_in_one_publish(api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    record = create(api, qty=5)
    put_and_publish(api, entity({"name": "amount", "type": "money"}), {"renames": {"qty": "amount"}})
    assert read(api, record)["amount"] == "5.00"


def test_a_rename_that_a_formula_still_uses_is_refused(api):
    setup_shop(api, {"name": "qty", "type": "integer"},
               {"name": "double", "type": "formula", "options": {"expression": "qty * 2", "result": "integer"}})  # fmt: skip
    record = create(api, qty=5)
    renamed = entity({"name": "quantity", "type": "integer"},
                     {"name": "double", "type": "formula", "options": {"expression": "qty * 2", "result": "integer"}})  # fmt: skip
    response = put_and_publish(api, renamed, {"renames": {"qty": "quantity"}}, expect=422)
    assert "qty" in str(response["error"])
    assert read(api, record)["qty"] == 5


def test_malformed_publish_options_are_a_400_and_change_nothing(app, api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    api.put("/api/definitions/shop/entity/item", json=entity({"name": "quantity", "type": "integer"}))
    for options in (
        {"renames": ["qty"]},
        {"renames": {"qty": "ghost"}},
        {"renames": {"nope": "quantity"}},
        {"consent": "qty"},
        {"restore": {"quantity": "1"}},
        {"restore": {"quantity": 999}},
        {"dry_run": "yes"},
        {"surprise": 1},
        [1, 2],
    ):
        response = api.post("/api/definitions/shop/entity/item/publish", json=options)
        assert response.status_code == 400, (options, response.get_json())
    assert "qty" in columns(app) and "quantity" not in columns(app)


# -- indexes follow the definition both ways ----------------------------------------------------


def test_removing_unique_drops_the_index_so_duplicates_are_accepted(app, api):
    setup_shop(api, {"name": "sku", "type": "text", "unique": True})
    create(api, sku="A-1")
    assert api.post("/api/data/shop/item", json={"name": "x", "sku": "A-1"}).status_code == 422
    published = put_and_publish(api, entity({"name": "sku", "type": "text", "indexed": True}))
    assert ("drop_index", None) in ops(published["plan"]) and ("add_index", "sku") in ops(published["plan"])
    assert "ux_e_shop_item_sku" not in indexes(app) and "ix_e_shop_item_sku" in indexes(app)
    assert create(api, sku="A-1")["sku"] == "A-1"  # was an IntegrityError (HTTP 500)
    put_and_publish(api, entity({"name": "sku", "type": "text"}))
    assert "ix_e_shop_item_sku" not in indexes(app)


def test_a_conversion_that_creates_duplicates_under_unique_is_refused_and_nothing_changes(app, api):
    setup_shop(api, {"name": "rate", "type": "decimal", "options": {"scale": 3}, "unique": True})
    create(api, rate="1.231")
    create(api, rate="1.234")
    before = columns(app), indexes(app)
    narrowed = entity({"name": "rate", "type": "decimal", "options": {"scale": 2}, "unique": True})
    response = put_and_publish(api, narrowed, {"consent": ["rate"]}, expect=409)
    assert "unique" in response["error"]["message"]
    assert (columns(app), indexes(app)) == before and trash(api) == []  # all or nothing
    assert api.get("/api/definitions/shop/entity/item").get_json()["published_version"] == 1


# -- child tables, purge ------------------------------------------------------------------------


def test_child_tables_evolve_the_same_way(app, api):
    setup_shop(api)
    line = {"name": "line", "label": "Line", "child": True, "fields": [{"name": "qty", "type": "integer"}]}
    api.put("/api/definitions/shop/entity/line", json=line)
    parent = entity({"name": "lines", "type": "child_table", "options": {"entity": "line"}})
    api.put("/api/definitions/shop/entity/item", json=parent)
    for kind_name in ("line", "item"):
        assert api.post(f"/api/definitions/shop/entity/{kind_name}/publish").status_code == 200
    record = create(api, lines=[{"qty": 3}])
    money_line = {**line, "fields": [{"name": "qty", "type": "money"}]}
    published = put_and_publish(api, money_line)
    assert step(published["plan"], "convert_column", "qty")["exact"] == 1
    assert read(api, record)["lines"][0]["qty"] == "3.00"
    assert trash(api, "line")[0]["field"]["type"] == "integer"


def test_purge_drops_the_column_and_the_entry_can_no_longer_be_restored(app, api):
    setup_shop(api, {"name": "old", "type": "text"})
    create(api, old="keep me?")
    put_and_publish(api, entity())
    (entry,) = trash(api)
    assert entry["column"] in columns(app)
    purged = api.delete(f"/api/definitions/shop/entity/item/trash/{entry['id']}")
    assert purged.status_code == 200 and purged.get_json()["state"] == "purged"
    assert entry["column"] not in columns(app)
    again = api.post(f"/api/definitions/shop/entity/item/trash/{entry['id']}/restore")
    assert again.status_code == 404
    assert api.delete(f"/api/definitions/shop/entity/item/trash/{entry['id']}").status_code == 404


def test_dry_run_changes_nothing(app, api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    create(api, qty=1)
    before = columns(app), indexes(app)
    api.put(
        "/api/definitions/shop/entity/item", json=entity({"name": "extra", "type": "text", "unique": True})
    )
    dry = api.post("/api/definitions/shop/entity/item/publish", json={"dry_run": True})
    assert dry.status_code == 200
    assert ("trash_column", "qty") in ops(dry.get_json()["plan"])
    assert ("add_column", "extra") in ops(dry.get_json()["plan"])
    assert (columns(app), indexes(app)) == before and trash(api) == []
    assert api.get("/api/definitions/shop/entity/item").get_json()["published_version"] == 1


def test_converting_10000_rows_keeps_every_value(app, api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        table = svc.snapshots.get(s).entity("shop", "item").table
        s.execute(sa.insert(table), [{"name": f"n{i}", "qty": i - 5000, "version": 1} for i in range(10_000)])
    published = put_and_publish(api, entity({"name": "qty", "type": "decimal", "options": {"scale": 3}}))
    assert step(published["plan"], "convert_column", "qty")["exact"] == 10_000
    with svc.db.read() as s:
        table = svc.snapshots.get(s).entity("shop", "item").table
        count, total, high = s.execute(sa.select(sa.func.count(table.c.qty), sa.func.sum(table.c.qty),
                                                 sa.func.max(table.c.qty))).one()  # fmt: skip
    assert (count, Decimal(total), Decimal(high)) == (
        10_000,
        Decimal(sum(range(-5000, 5000))),
        Decimal("4999.000"),
    )


def test_an_entity_cannot_turn_into_a_child_table_once_published(app, api):
    setup_shop(api)
    create(api)
    response = put_and_publish(api, {**entity(), "child": True}, expect=409)
    assert "child" in response["error"]["fields"]
    assert "parent_id" not in columns(app)


def test_an_entity_whose_table_name_another_app_uses_is_refused_and_requests_keep_working(api):
    setup_shop(api, {"name": "qty", "type": "integer"})
    create(api, qty=1)
    assert api.put("/api/definitions/shop/entity/x_y", json=entity(name="x_y")).status_code == 200
    assert api.post("/api/definitions/shop/entity/x_y/publish").status_code == 200
    clash = {
        "app": {"name": "shop_x", "label": "Clash"},
        "entities": [entity(name="y")],
        "forms": [],
        "views": [],
    }
    response = api.post("/api/templates/import", json=clash)
    assert response.status_code == 422, response.get_json()
    assert "e_shop_x_y" in response.get_json()["error"]["message"]
    assert api.get("/api/data/shop/item").status_code == 200  # was a 500 for every request from then on
    assert api.get("/api/definitions/shop_x").get_json()["data"] == []  # the import left nothing behind


def test_a_rename_reaches_the_view_and_formula_that_use_the_field_in_one_app_publish(app, api):
    double = {"name": "double", "type": "formula", "options": {"expression": "qty * 2", "result": "integer"}}
    setup_shop(api, {"name": "qty", "type": "integer"}, double)
    view = {"name": "items", "entity": "item", "label": "Items", "columns": ["name", "qty"]}
    assert api.put("/api/definitions/shop/view/items", json=view).status_code == 200
    assert api.post("/api/definitions/shop/view/items/publish").status_code == 200
    record = create(api, qty=5)
    renamed_double = {**double, "options": {**double["options"], "expression": "quantity * 2"}}
    api.put(
        "/api/definitions/shop/entity/item",
        json=entity({"name": "quantity", "type": "integer"}, renamed_double),
    )
    api.put("/api/definitions/shop/view/items", json={**view, "columns": ["name", "quantity"]})
    alone = api.post("/api/definitions/shop/entity/item/publish", json={"renames": {"qty": "quantity"}})
    assert alone.status_code == 422  # the published view still shows 'qty'
    options = {"entities": {"item": {"renames": {"qty": "quantity"}}}}
    dry = api.post("/api/definitions/shop/publish", json={**options, "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    plans = {p["name"]: p["plan"] for p in dry.get_json()["published"]}
    assert ops(plans["item"]) == [("rename_column", "quantity")] and plans["items"] is None
    assert read(api, record)["qty"] == 5  # the dry run changed nothing
    done = api.post("/api/definitions/shop/publish", json=options)
    assert done.status_code == 200, done.get_json()
    assert {p["name"] for p in done.get_json()["published"]} == {"item", "items"}
    assert (read(api, record)["quantity"], read(api, record)["double"]) == (5, 10)
    assert (
        api.post("/api/definitions/shop/publish", json={"entities": {"item": {"oops": 1}}}).status_code == 400
    )
