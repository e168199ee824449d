"""The size of a condition document: comparisons, nesting, text scans - and junk counts as nothing."""

from __future__ import annotations

from lowcode.conditions.size import ConditionSize, measure


def test_leaf_group_and_nesting_are_counted():
    doc = {"all": [
        {"field": "a", "op": "=", "value": 1},
        {"any": [{"field": "b", "op": "contains", "value": "abc"}, {"not": {"field": "c", "op": "starts_with",
                                                                         "value": "hello"}}]},
    ]}  # fmt: skip
    assert measure(doc) == ConditionSize(terms=3, depth=3, text_terms=2, longest_text=5)
    assert measure({"field": "a", "op": "is_empty"}) == ConditionSize(terms=1)


def test_junk_counts_as_nothing_and_deep_nesting_is_safe():
    assert measure(None) == measure([1, 2]) == measure("x") == ConditionSize()
    assert measure({"all": "not a list", "any": [7]}) == ConditionSize(depth=1)
    deep: dict = {"field": "a", "op": "contains", "value": 5}  # a non-text value has no length
    for _ in range(5000):
        deep = {"not": deep}
    assert measure(deep) == ConditionSize(terms=1, depth=5000, text_terms=1, longest_text=0)


def test_sizes_add_up_as_joined_by_all():
    a, b = ConditionSize(2, 3, 1, 10), ConditionSize(1, 1, 1, 20)
    assert a + b == ConditionSize(3, 3, 2, 20)
