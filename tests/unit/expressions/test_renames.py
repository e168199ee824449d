"""Renaming a field in an expression rewrites its reads only; in a condition, its leaves only."""

from __future__ import annotations

import pytest

from lowcode.conditions.renames import rename_field
from lowcode.expressions.renames import rename_name


@pytest.mark.parametrize(("text", "renamed"), [
    ("qty * price", "amount * price"),
    ("round(qty, 2) + qty", "round(amount, 2) + amount"),
    ("line.qty * qty", "line.qty * amount"),  # another record's qty stays
    ('len("qty") + qty', 'len("qty") + amount'),  # text stays
    ("qty_total + 1", "qty_total + 1"),  # a longer name stays
    ("1 +", "1 +"),  # does not parse: left to its check
])  # fmt: skip
def test_only_reads_of_the_name_are_renamed(text, renamed):
    assert rename_name(text, "qty", "amount") == renamed


def test_a_condition_renames_its_leaves_at_every_depth():
    doc = {"all": [{"field": "qty", "op": ">", "value": 1},
                   {"not": {"any": [{"field": "qty", "op": "is_empty"}, {"field": "note", "op": "=", "value": "qty"}]}}]}  # fmt: skip
    assert rename_field(doc, "qty", "amount") == {
        "all": [{"field": "amount", "op": ">", "value": 1},
                {"not": {"any": [{"field": "amount", "op": "is_empty"}, {"field": "note", "op": "=", "value": "qty"}]}}]}  # fmt: skip
