"""The size of a condition document, measured before it is parsed, for the cost limits of a request.

Works on any JSON value: what is not a condition counts as nothing (the parser reports it). A leaf is a
mapping with ``op``; ``contains`` and ``starts_with`` leaves are text scans, the costly kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TEXT_SCAN_OPS = frozenset({"contains", "starts_with"})
"""Operators that scan text with ``LIKE`` (no index helps ``contains``)."""


@dataclass(frozen=True)
class ConditionSize:
    """Comparisons, deepest all/any/not nesting, text-scan comparisons and the longest text-scan value."""

    terms: int = 0
    depth: int = 0
    text_terms: int = 0
    longest_text: int = 0

    def __add__(self, other: ConditionSize) -> ConditionSize:
        """The size of two conditions joined by ``all`` without counting that ``all``."""
        return ConditionSize(
            self.terms + other.terms,
            max(self.depth, other.depth),
            self.text_terms + other.text_terms,
            max(self.longest_text, other.longest_text),
        )


def measure(doc: Any) -> ConditionSize:
    """The :class:`ConditionSize` of a condition document (iterative: any depth is safe)."""
    terms = depth = text_terms = longest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if "op" in node or "field" in node:
            terms += 1
            value = node.get("value")
            if node.get("op") in TEXT_SCAN_OPS:
                text_terms += 1
                longest = max(longest, len(value) if isinstance(value, str) else 0)
            continue
        depth = max(depth, level + 1) if node else depth
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend((item, level + 1) for item in node[key])
        if "not" in node:
            stack.append((node["not"], level + 1))
    return ConditionSize(terms, depth, text_terms, longest)
