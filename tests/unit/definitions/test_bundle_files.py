"""Bundles as zip files (limits, paths) and the whole-bundle check with file and JSON path."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from lowcode.app import register_builtins
from lowcode.definitions import bundle_files
from lowcode.definitions.bundle_check import bundle_errors, json_path, require_valid_bundle
from lowcode.definitions.bundle_files import (
    bundle_documents,
    bundle_zip,
    checked_app_name,
    parse_bundle,
    read_zip,
    renamed_bundle,
)
from lowcode.definitions.templates import load_bundle
from lowcode.errors import BadRequest, DefinitionInvalid, PayloadTooLarge

ROOT = Path(__file__).resolve().parents[3]
ENTITY = {"name": "product", "label": "Product", "fields": [{"name": "code", "type": "text"}]}
BUNDLE = {"app": {"name": "shop", "label": "Shop"}, "entities": [ENTITY]}


@pytest.fixture(autouse=True, scope="module")
def _registries():
    register_builtins()


def zipped(files: dict[str, bytes | str], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return out.getvalue()


def test_a_bundle_round_trips_through_a_zip_with_its_manifest():
    bundle = {
        **BUNDLE,
        "manifest": {"template": "shop", "version": "3", "definitions": {"entity/product": 2}},
    }
    back = parse_bundle(bundle_zip(bundle))
    assert back["app"] == BUNDLE["app"] and back["entities"] == [ENTITY]
    assert back["manifest"]["version"] == "3"


def test_a_zip_with_one_top_folder_is_read_under_it():
    data = zipped({"shop/app.json": '{"name": "shop", "label": "S"}', "shop/entities/p.json": "{}"})
    assert set(read_zip(data)) == {"app.json", "entities/p.json"}


@pytest.mark.parametrize(
    "name",
    [
        "../app.json",
        "/etc/app.json",
        "entities/../../x.json",
        "entities\\x.json",
        "c:/x.json",
        "../../evil/app.json",
    ],
)
def test_paths_outside_the_bundle_are_refused(name):
    with pytest.raises(BadRequest) as refused:
        read_zip(zipped({"app.json": "{}", name: "{}"}))
    assert list(refused.value.fields) == [name]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("secrets.txt", "only .json"),
        ("scripts/run.json", "unknown folder 'scripts'"),
        ("entities/deep/x.json", "not read"),
        ("other.json", "unknown file"),
    ],
)
def test_files_outside_the_layout_are_named(name, reason):
    with pytest.raises(BadRequest) as refused:
        read_zip(zipped({"app.json": "{}", name: "{}"}))
    assert reason in refused.value.fields[name][0]


def test_links_are_not_followed():
    with pytest.raises(BadRequest) as refused:
        read_zip(zipped({"app.json": "{}", "entities/x.json": "/etc/passwd"}, links=("entities/x.json",)))
    assert "links" in refused.value.fields["entities/x.json"][0]


def test_a_zip_bomb_stops_at_the_size_limit(monkeypatch):
    monkeypatch.setattr(bundle_files, "MAX_FILE_BYTES", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.json", " " * 100_000)
    assert len(out.getvalue()) < 2000
    with pytest.raises(PayloadTooLarge):
        read_zip(out.getvalue())


def test_too_many_files_are_refused_before_reading(monkeypatch):
    monkeypatch.setattr(bundle_files, "MAX_FILES", 3)
    with pytest.raises(PayloadTooLarge):
        read_zip(zipped({f"entities/e{i}.json": "{}" for i in range(4)}))


def test_total_size_is_limited(monkeypatch):
    monkeypatch.setattr(bundle_files, "MAX_TOTAL_BYTES", 50)
    with pytest.raises(PayloadTooLarge):
        read_zip(zipped({"app.json": " " * 30, "entities/a.json": " " * 30}))


def test_not_a_zip_nor_json_and_bad_json_files_are_bad_requests():
    with pytest.raises(BadRequest):
        parse_bundle(b"PK\x03\x04 broken")
    with pytest.raises(BadRequest):
        parse_bundle(b"\xff\xfe")
    with pytest.raises(BadRequest):
        parse_bundle(b"[1, 2]")
    with pytest.raises(BadRequest) as refused:
        parse_bundle(zipped({"app.json": '{"name": "shop"', "entities/p.json": "{}"}))
    assert list(refused.value.fields) == ["app.json"]
    with pytest.raises(BadRequest) as missing:
        parse_bundle(zipped({"entities/p.json": "{}"}))
    assert "app.json" in missing.value.fields


def test_renaming_changes_only_the_app_name():
    bundle = load_bundle(ROOT / "app_templates" / "jxc")
    renamed = renamed_bundle(bundle, "shop2")
    assert renamed["app"]["name"] == "shop2" and bundle["app"]["name"] == "jxc"
    assert {k: v for k, v in renamed.items() if k != "app"} == {k: v for k, v in bundle.items() if k != "app"}
    assert bundle_errors(renamed) == {}
    assert set(bundle_documents(renamed)["app"]) == {"shop2"}


def test_app_names_are_keys():
    assert checked_app_name("shop_2") == "shop_2"
    for bad in ("", "Shop", "2shop", "a-b", "x" * 49, "../x"):
        with pytest.raises(DefinitionInvalid):
            checked_app_name(bad)


def test_json_paths():
    assert json_path("fields/3/type") == "$.fields[3].type"
    assert json_path("/") == "$"


def test_schema_errors_are_reported_by_file_and_json_path():
    bad_field = {**ENTITY, "fields": [*ENTITY["fields"], {"name": "size", "type": "nope"}]}
    view = {"name": "product_list", "entity": "product", "columns": ["code", "missing"]}
    errors = bundle_errors({**BUNDLE, "entities": [bad_field], "views": [view], "forms": [{"entity": "x"}]})
    assert "entities/product.json: $.fields[1].type" in errors
    assert "forms[0]: $.name" in errors
    with pytest.raises(DefinitionInvalid) as refused:
        require_valid_bundle({**BUNDLE, "entities": [bad_field]})
    assert refused.value.extra["problems"][0].startswith("entities/product.json: $.fields[1].type: ")


def test_cross_document_errors_are_reported_by_file_and_json_path():
    view = {"name": "product_list", "entity": "product", "columns": ["code", "missing"]}
    errors = bundle_errors({**BUNDLE, "views": [view]})
    assert list(errors) == ["views/product_list.json: $.columns[1]"]


def test_unknown_sections_twice_named_documents_and_no_app():
    errors = bundle_errors({"app": {"label": "x"}, "macros": [], "entities": [ENTITY, ENTITY]})
    assert {"$.macros", "app.json: $.name", "entities/product.json: $.name"} <= set(errors)
    assert bundle_errors([]) == {"$": [bundle_errors([])["$"][0]]}
    assert "demo_data[0]" in bundle_errors({**BUNDLE, "demo_data": [{"records": []}]})
