"""Value specs of a demo scenario, evaluated in a scope of names.

A spec is a literal (kept as is), text starting with ``=`` (an expression of the expression language, with
the run's functions), a list or object of specs, or ``{"$each": list, "as": name, "let": {...}, "where":
expr, "limit": n, "value": spec}`` (one value per element that passes ``where``, at most ``limit``)."""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from lowcode.errors import ExpressionEvaluationError
from lowcode.expressions import Expression, compile_expression
from lowcode.expressions.functions import as_bool
from lowcode.registry import Registry


class Values:
    """Evaluates value specs; expressions are compiled once per text."""

    def __init__(self, functions: Registry[Callable[..., Any]]):
        self.functions = functions
        self._compiled: dict[str, Expression] = {}

    def expression(self, text: str) -> Expression:
        """The compiled expression of ``text`` (without its leading '=')."""
        found = self._compiled.get(text)
        if found is None:
            found = self._compiled[text] = compile_expression(text, functions=self.functions)
        return found

    def eval(self, spec: Any, scope: ChainMap) -> Any:
        """The value of ``spec`` in ``scope``."""
        if isinstance(spec, str):
            if spec.startswith("="):
                return self.expression(spec[1:]).evaluate(scope)
            return spec
        if isinstance(spec, list):
            return [self.eval(s, scope) for s in spec]
        if isinstance(spec, dict):
            if "$each" in spec:
                return self._each(spec, scope)
            return {k: self.eval(v, scope) for k, v in spec.items()}
        return spec

    def test(self, spec: Any, scope: ChainMap, where: str) -> bool:
        """A condition spec (an expression or a boolean) as a boolean."""
        return as_bool(self.eval(spec, scope), where)

    def bind(self, names: Mapping[str, Any], scope: ChainMap) -> None:
        """Evaluate ``names`` in order into the innermost scope (each may use the ones before)."""
        for name, spec in names.items():
            scope.maps[0][name] = self.eval(spec, scope)

    def _each(self, spec: dict, scope: ChainMap) -> list:
        items = self.eval(spec["$each"], scope)
        if not isinstance(items, list | tuple):
            raise ExpressionEvaluationError(f"$each expects a list, got {type(items).__name__}")
        limit = self.eval(spec["limit"], scope) if "limit" in spec else None
        out = []
        for element in items:
            if limit is not None and len(out) >= limit:
                break
            inner = scope.new_child({spec.get("as", "it"): element})
            self.bind(spec.get("let", {}), inner)
            if "where" in spec and not self.test(spec["where"], inner, "$each where"):
                continue
            out.append(self.eval(spec["value"], inner))
        return out


def as_input(value: Any) -> Any:
    """A computed value as record service input: numbers as exact text (whole numbers as int), dates as ISO
    text, lists and objects converted throughout."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else str(value)
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [as_input(v) for v in value]
    if isinstance(value, Mapping):
        return {k: as_input(v) for k, v in value.items()}
    return value
