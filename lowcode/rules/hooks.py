"""What the record service calls before and after each write. The default runs no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class RowTally:
    """How many rows the rules set off by one write have looped over or written so far (shared by every
    rule of that write, cascades included; the rule engine compares it with its row budget)."""

    rows: int = 0


@dataclass
class WriteEvent:
    """One write seen by rules: ``after`` may be changed by before-rules."""

    app: str
    entity: str
    kind: str
    """create / update / delete / restore"""
    record_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: RowTally = field(default_factory=RowTally, kw_only=True)
    """The row tally of this write's rules, when a caller (not a rule) made it; see ``RuleEngine.run_rule``."""
    transition: str | None = field(default=None, kw_only=True)
    """The workflow transition this write takes (by name), if it changes the state field."""


class RuleHooks(Protocol):
    """The interface the record service needs from the rule engine."""

    def before_write(self, ctx, entity, event: WriteEvent) -> None:
        """Run before-rules; may change ``event.after`` or raise RuleRefused."""

    def after_write(self, ctx, entity, event: WriteEvent) -> bool:
        """Run after-rules in the same transaction; may write other records or raise RuleRefused.

        Returns whether any rule ran (it may have changed the written record again)."""

    def has_rules(self, ctx, entity, kind: str) -> bool:
        """Whether any before- or after-rule listens to ``kind`` writes of ``entity`` (bulk writes batch
        only writes no rule sees)."""


class NoRules:
    """Rule hooks that do nothing."""

    def before_write(self, ctx, entity, event: WriteEvent) -> None:
        """Nothing to run."""

    def after_write(self, ctx, entity, event: WriteEvent) -> bool:
        """Nothing to run."""
        return False

    def has_rules(self, ctx, entity, kind: str) -> bool:
        """No rules."""
        return False
