"""A table of long notes for the cost-limit tests: an app ``ct`` with ``memo`` (2 KB notes) and ``probe``
(whose after-rule scans the notes), a read-only role, and a fast way to fill ``memo`` with many rows."""

from __future__ import annotations

import sqlalchemy as sa

BUNDLE = {
    "app": {"name": "ct", "label": "Costs"},
    "entities": [
        {"name": "memo", "label": "Memo", "fields": [
            {"name": "title", "type": "text"},
            {"name": "note", "type": "long_text"},
            {"name": "hits", "type": "integer", "default": 0},
        ]},
        {"name": "probe", "label": "Probe", "fields": [{"name": "needle", "type": "text"}]},
    ],
    "roles": [{"name": "reader", "label": "Reader", "grants": [{"entity": "memo", "actions": ["read"]}]}],
    "rules": [
        {"name": "count_matches", "entity": "probe",
         "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "update_records", "entity": "memo", "expect": "any",
                      "where": {"field": "note", "op": "contains", "value": "$record.needle"},
                      "set": {"hits": "hits + 1"}}]},
    ],
}  # fmt: skip
NOTE_ALPHABET = "abcdefghijklmnoprstuvwxyz "
"""No ``q``: the filters below look for needles with a ``q`` in them, so every row is scanned in full."""


def note(i: int, length: int = 2000) -> str:
    """A 2 KB note, different per ``i``, without the letter q."""
    return "".join(NOTE_ALPHABET[(i * 7 + j * j) % len(NOTE_ALPHABET)] for j in range(length))


def fill_memos(app, rows: int) -> int:
    """Put at least ``rows`` memos in the table (outside any request: no budget); returns the count."""
    db = app.extensions["lowcode"].db
    with db.write() as session:
        table = app.extensions["lowcode"].snapshots.get(session).entity("ct", "memo").table
        session.execute(sa.insert(table), [{"title": f"m{i}", "note": note(i), "hits": 0} for i in range(64)])
        names = [c.name for c in table.columns if c.name != "id"]
        count = 64
        while count < rows:
            session.execute(sa.insert(table).from_select(names, sa.select(*[table.c[n] for n in names])))
            count *= 2
    return count


def costly_filter(terms: int) -> dict:
    """``any`` of ``terms`` ``contains`` comparisons on the notes, none of which matches."""
    return {"any": [{"field": "note", "op": "contains", "value": f"zq{i}"} for i in range(terms)]}
