"""Every test builds its own app, and werkzeug compiles two URL builders per route for each (Python code made
with ``ast`` and ``compile``): about 0.08 s of the 0.1 s ``create_app`` takes, in each of some 2,500 tests.

A builder is a function of the rule's parsed parts alone - it has no globals and reads converters and query
encoding through the rule it is bound to - so the suite compiles each distinct one once per process and lets
every later rule with the same parts bind the same function. Rules whose defaults fill one of their own
placeholders (werkzeug bakes the converted default into the code) are compiled as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing.rules import Rule

_BUILDERS: dict[tuple, Callable] = {}


def share_route_builders() -> None:
    """Make ``Rule._compile_builder`` reuse the function compiled for an equal rule (idempotent)."""
    compile_builder = Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return

    def shared(self: Rule, append_unknown: bool = True) -> Callable:
        defaults = self.defaults or {}
        if any(dynamic and data in defaults for dynamic, data in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = compile_builder(self, append_unknown)
        return builder

    shared.shared = True  # type: ignore[attr-defined]
    shared.original = compile_builder  # type: ignore[attr-defined]
    Rule._compile_builder = shared  # type: ignore[method-assign]
