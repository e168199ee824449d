"""Reconciliation with an external system: it sends its list of ``(key, version or checksum)`` for an entity,
the platform answers which records it lacks (``missing``: keys it sent that match no record here), which it
does not know (``extra``: records here whose key it did not send) and which differ (``differing``).

The key is the entity's ``id`` or one of its unique fields. A version is compared with the record's version; a
checksum with :func:`record_checksum` of the record as the API renders it to the caller. Everything is read
through the query service, so the caller's record rules and hidden fields apply: a record they may not read
is neither extra nor matched. ``extra`` is looked for between the smallest and the largest key sent
(``scope`` ``range``, the default: an external system reconciles in key-ordered chunks) or in the whole table
(``scope`` ``all``); it lists at most :data:`MAX_EXTRA` records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.core.jsonutil import to_jsonable
from lowcode.errors import BadRequest, PayloadTooLarge, PermissionDenied
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, QueryService, SortKey
from lowcode.runtime.serialize import record_to_json

MAX_ITEMS = 10_000
MAX_EXTRA = 10_000
CHUNK = 500
SYSTEM_KEYS = frozenset(
    {"id", "version", "created_at", "updated_at", "created_by", "updated_by", "deleted_at"}
)
"""Left out of a checksum: they change without the record's content changing (or name it here only)."""
SCOPES = ("range", "all")


def record_checksum(record_json: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record as the API renders it, without :data:`SYSTEM_KEYS`: canonical JSON with sorted
    keys, no spaces, UTF-8 (``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``)."""
    content = {k: v for k, v in record_json.items() if k not in SYSTEM_KEYS}
    text = json.dumps(to_jsonable(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Reconciliation:
    """The answer: keys missing here, records here the other side lacks, records that differ, how many agree."""

    missing: list[Any] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    extra_truncated: bool = False
    differing: list[dict[str, Any]] = field(default_factory=list)
    same: int = 0

    def as_json(self) -> dict[str, Any]:
        """The answer's JSON body."""
        return {
            "missing": self.missing,
            "extra": self.extra,
            "extra_truncated": self.extra_truncated,
            "differing": self.differing,
            "same": self.same,
        }


@dataclass(frozen=True)
class TheirItem:
    """One entry of the external list: its key and its version or checksum."""

    key: str
    version: int | None = None
    checksum: str | None = None


def reconcile(
    ctx: WriteContext, queries: QueryService, app: str, entity_name: str, body: Any, hidden: frozenset[str]
) -> Reconciliation:
    """Compare the external list in ``body`` (``{"key", "items", "scope"}``) with the records the caller may read.

    :raises BadRequest: a malformed body; :raises PayloadTooLarge: more than :data:`MAX_ITEMS` items;
    :raises PermissionDenied: a key field hidden from the caller.
    """
    entity = ctx.snapshot.entity(app, entity_name)
    key, items, scope = _parse(body, entity)
    if key in hidden:
        raise PermissionDenied(f"You may not read '{key}'")
    answer = Reconciliation()
    found: dict[str, dict[str, Any]] = {}
    keys = list(items)
    for start in range(0, len(keys), CHUNK):
        condition = {"field": key, "op": "in", "value": _typed(keys[start : start + CHUNK], key)}
        for record in _records(ctx, queries, app, entity_name, condition):
            found[_text(record[key])] = record_to_json(entity, record, hidden)
    for text, theirs in items.items():
        ours = found.get(text)
        if ours is None:
            answer.missing.append(text)
        elif _differs(theirs, ours):
            answer.differing.append(_difference(theirs, ours))
        else:
            answer.same += 1
    _find_extra(ctx, queries, app, entity_name, key, keys, scope, hidden, answer)
    return answer


def _parse(body: Any, entity) -> tuple[str, dict[str, TheirItem], str]:
    if not isinstance(body, dict) or set(body) - {"key", "items", "scope"}:
        raise BadRequest(
            'Send {"key": <field>, "items": [{"key": ..., "version" or "checksum": ...}], "scope"}'
        )
    key, raw, scope = body.get("key", "id"), body.get("items"), body.get("scope", "range")
    if key != "id" and not (key in entity.fields and entity.fields[key].fdef.unique):
        raise BadRequest(f"'key' must be 'id' or a unique field of {entity.name}")
    if scope not in SCOPES:
        raise BadRequest(f"'scope' is one of {', '.join(SCOPES)}")
    if not isinstance(raw, list):
        raise BadRequest("'items' must be a list")
    if len(raw) > MAX_ITEMS:
        raise PayloadTooLarge(f"At most {MAX_ITEMS} items per call")
    items: dict[str, TheirItem] = {}
    for index, item in enumerate(raw):
        parsed = _item(item, index)
        if parsed.key in items:
            raise BadRequest(f"items[{index}]: key '{parsed.key}' is sent twice")
        items[parsed.key] = parsed
    return key, items, scope


def _item(item: Any, index: int) -> TheirItem:
    if not isinstance(item, dict) or "key" not in item or set(item) - {"key", "version", "checksum"}:
        raise BadRequest(
            f'items[{index}]: send {{"key": ..., "version": n}} or {{"key": ..., "checksum": hex}}'
        )
    key, version, checksum = item["key"], item.get("version"), item.get("checksum")
    if isinstance(key, bool) or not isinstance(key, (str, int)) or (isinstance(key, str) and not key):
        raise BadRequest(f"items[{index}].key must be a non-empty text or a whole number")
    if (version is None) == (checksum is None):
        raise BadRequest(f"items[{index}]: send exactly one of 'version' and 'checksum'")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise BadRequest(f"items[{index}].version must be a whole number of at least 1")
    if checksum is not None and not (isinstance(checksum, str) and len(checksum) == 64):
        raise BadRequest(f"items[{index}].checksum must be 64 hexadecimal characters (SHA-256)")
    return TheirItem(_text(key), version, checksum.lower() if checksum else None)


def _text(value: Any) -> str:
    return str(value)


def _typed(keys: list[str], key: str) -> list[Any]:
    return [int(k) for k in keys if k.isdigit()] if key == "id" else keys


def _differs(theirs: TheirItem, ours: dict[str, Any]) -> bool:
    if theirs.version is not None:
        return theirs.version != ours["version"]
    return theirs.checksum != record_checksum(ours)


def _difference(theirs: TheirItem, ours: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": theirs.key, "id": ours["id"], "version": ours["version"]}
    if theirs.version is not None:
        entry["their_version"] = theirs.version
    else:
        entry["checksum"], entry["their_checksum"] = record_checksum(ours), theirs.checksum
    return entry


def _find_extra(ctx, queries, app, entity_name, key, keys, scope, hidden, answer: Reconciliation) -> None:
    sent = set(keys)
    condition = None
    if scope == "range":
        if not keys:
            return
        typed = sorted(_typed(keys, key))
        condition = {
            "all": [
                {"field": key, "op": ">=", "value": typed[0]},
                {"field": key, "op": "<=", "value": typed[-1]},
            ]
        }
    for record in _records(ctx, queries, app, entity_name, condition):
        if _text(record[key]) in sent:
            continue
        if len(answer.extra) == MAX_EXTRA:
            answer.extra_truncated = True
            return
        answer.extra.append({"key": record[key], "id": record["id"], "version": record["version"]})


def _records(ctx, queries, app, entity_name, condition) -> Iterator[dict[str, Any]]:
    """Every record matching ``condition`` the caller may read, page by page (not deleted ones)."""
    after = None
    while True:
        query = ListQuery(
            condition=condition, sort=(SortKey("id", False),), limit=CHUNK, after=after, with_total=False
        )
        page = queries.list(ctx, app, entity_name, query)
        yield from page.records
        if page.next_cursor is None:
            return
        after = page.next_cursor
