"""Highlights of measure cells: a measure's ``"highlight": "nonzero"`` marks the cells whose value holds the
named predicate (the business-finance difference report marks days where two sources disagree). The page
sets such cells apart, the XLSX export fills them; a registry, so new predicates plug in by name."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from lowcode.registry import Registry

Highlight = Callable[[Any], bool]

highlights: Registry[Highlight] = Registry("highlight")


def _number(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None


highlights.register("nonzero", lambda v: (n := _number(v)) is not None and n != 0)
highlights.register("negative", lambda v: (n := _number(v)) is not None and n < 0)
highlights.register("positive", lambda v: (n := _number(v)) is not None and n > 0)
