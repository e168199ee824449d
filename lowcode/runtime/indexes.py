"""Composite indexes declared by entity definitions (``"indexes": [["status", "order_date"], ...]``).

Each is built over its fields then ``id`` (the list's tie-breaker and page cursor) and ``deleted_at``, so that a list filtered on
the first fields and sorted by the next ones reads one index range in order and stops after a page, whatever
the table's size. The list sorts ascending with NULLs first and descending with NULLs last
(:mod:`lowcode.runtime.queries`): SQLite's own index order, read forwards or backwards. PostgreSQL
puts NULLs last by default, so there the index keys are declared ``NULLS FIRST`` (a backward scan then gives
``DESC NULLS LAST``).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

MAX_NAME = 63
"""PostgreSQL's identifier length."""


class IndexKey(ColumnElement):
    """A column as an index key in the list's NULL order (``NULLS FIRST`` on PostgreSQL, plain elsewhere)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: sa.Column):
        self.column = column
        self.type = column.type


@compiles(IndexKey)
def _plain_key(element: IndexKey, compiler, **kw) -> str:
    return compiler.process(element.column, **{**kw, "include_table": False})


@compiles(IndexKey, "postgresql")
def _nulls_first_key(element: IndexKey, compiler, **kw) -> str:
    return compiler.process(element.column, **{**kw, "include_table": False}) + " NULLS FIRST"


def index_name(table: str, fields: list[str]) -> str:
    """The declared index's name: ``ix_<table>_<fields>``, or a digest of the fields where that is too long."""
    name = f"ix_{table}_{'_'.join(fields)}"
    if len(name) <= MAX_NAME:
        return name
    return f"ix_{table}_{hashlib.sha256('/'.join(fields).encode()).hexdigest()[:12]}"[:MAX_NAME]


def composite_index(table: sa.Table, fields: list[str]) -> sa.Index:
    """Attach the declared index over ``fields``, ``id`` and ``deleted_at`` to ``table``: ``id`` orders ties and
    makes the page cursor, ``deleted_at`` (which every list tests) lets the index cover the list's capped count -
    no row of the table is read to count a page's matches."""
    keys = [IndexKey(table.c[name]) for name in (*fields, "id", "deleted_at")]
    return sa.Index(index_name(table.name, fields), *keys, _table=table)
