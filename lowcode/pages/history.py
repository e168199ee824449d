"""A record's history on its page: newest first, one entry per write, rule-made changes folded under the
write that set them off, actors shown by name.

Audit rows of one unit of work (a request, a job) share ``lc_audit.unit``. On one record, the rows written
by rules (``system:rule:<name>``) in the unit of a person's write are folded under that write, their changes
merged per field (first old value -> last new value); rows of a unit with no person's write on this record
(a rule set off by a write elsewhere) make one entry of their own. Rows without a unit (written before it was
recorded) stay one entry each.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from lowcode.auth.users import user_names
from lowcode.core.models import AuditEntry
from lowcode.pages.binding import is_child_table
from lowcode.pages.display import Lookups, format_moment, is_link
from lowcode.pages.rulenames import rule_label
from lowcode.runtime.audit import history
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

RULE_ACTOR = "system:rule:"


def _action_label(action: str) -> str:
    labels = {
        "create": _("Created"),
        "update": _("Updated"),
        "delete": _("Deleted"),
        "restore": _("Restored"),
    }
    return labels.get(action, action)


def _rows_text(value: Any) -> str:
    count = len(value) if isinstance(value, list) else 0
    return ngettext("%(num)d row", "%(num)d rows", count)


def is_rule_row(entry: AuditEntry) -> bool:
    """Whether a rule wrote this audit row."""
    return (entry.actor_name or "").startswith(RULE_ACTOR)


def fold(entries: list[AuditEntry]) -> list[tuple[AuditEntry, list[AuditEntry]]]:
    """``[(write, rule rows folded under it)]``, newest first, from a record's audit rows in any order."""
    ordered = sorted(entries, key=lambda e: e.id)
    groups: list[tuple[AuditEntry, list[AuditEntry]]] = []
    head_of_unit: dict[str, int] = {}
    for entry in ordered:
        index = head_of_unit.get(entry.unit) if entry.unit else None
        if index is not None and is_rule_row(entry):
            groups[index][1].append(entry)
            continue
        groups.append((entry, []))
        if entry.unit:
            head_of_unit[entry.unit] = len(groups) - 1
    groups.reverse()
    return groups


def merged_diff(rows: list[AuditEntry]) -> dict[str, list]:
    """The net change of several audit rows per field: the first old value and the last new one."""
    out: dict[str, list] = {}
    for row in rows:
        for name, pair in (row.diff or {}).items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            out[name] = [out[name][0] if name in out else old, new]
    return {name: pair for name, pair in out.items() if pair[0] != pair[1]}


class HistoryView:
    """Builds the history entries of one record for one reader."""

    def __init__(self, ctx: WriteContext, entity: CompiledEntity, lookups: Lookups, hidden: frozenset[str]):
        self.ctx = ctx
        self.entity = entity
        self.lookups = lookups
        self.hidden = hidden
        self.people: dict[int, str] = {}

    def actor(self, entry: AuditEntry) -> str:
        """A person's display name (else username), "rule: <label>" for a rule, the system's reason else."""
        name = entry.actor_name or ""
        if name.startswith(RULE_ACTOR):
            rule = rule_label(self.ctx, self.entity.app, name[len(RULE_ACTOR) :], self.lookups.language)
            return _("rule: %(label)s", label=rule)
        if entry.actor_id is not None:
            return self.people.get(entry.actor_id, name)
        return name

    def changes(self, diff: dict[str, Any]) -> list[dict[str, str]]:
        """Each visible field's change as label, old text, new text."""
        out = []
        for name, pair in diff.items():
            if name in self.hidden:
                continue
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            cf = self.entity.fields.get(name)
            if cf is not None and is_child_table(cf):
                texts = (_rows_text(old), _rows_text(new))
            elif cf is not None:
                texts = (
                    self.lookups.format_json(self.entity, cf, old),
                    self.lookups.format_json(self.entity, cf, new),
                )
            else:
                texts = ("" if old is None else str(old), "" if new is None else str(new))
            if cf is not None:
                label = cf.fdef.label_for(self.lookups.language)
            else:
                label = _("Deleted at") if name == "deleted_at" else name
            out.append({"label": label, "old": texts[0], "new": texts[1]})
        return out

    def _load(self, entries: list[AuditEntry]) -> None:
        wanted: dict[str, set] = {}
        for entry in entries:
            for name, pair in (entry.diff or {}).items():
                cf = self.entity.fields.get(name)
                if cf is not None and is_link(cf) and isinstance(pair, list):
                    wanted.setdefault(name, set()).update(v for v in pair if isinstance(v, int))
        self.lookups.load(self.entity, wanted)
        ids = sorted({e.actor_id for e in entries if e.actor_id is not None})
        if ids:
            self.people.update(user_names(self.ctx.session, ids))

    def entries(self, record_id: int) -> list[dict[str, Any]]:
        """The record's history entries, newest first."""
        rows = history(self.ctx.session, self.entity.app, self.entity.name, record_id)
        self._load(rows)
        out = []
        for head, folded in fold(rows):
            rule_made = is_rule_row(head)
            own = merged_diff([head, *folded]) if rule_made else dict(head.diff or {})
            versions = [v for v in (head.version, *(r.version for r in folded)) if v is not None]
            caused = [] if rule_made or not folded else self.changes(merged_diff(folded))
            rules = sorted({self.actor(r) for r in ([head, *folded] if rule_made else folded)})
            out.append(
                {
                    "at": format_moment(head.at),
                    "actor": ", ".join(rules) if rule_made else self.actor(head),
                    "action": _action_label(head.action),
                    "source": head.source,
                    "version": max(versions) if versions else None,
                    "first_version": min(versions) if versions else None,
                    "rule_made": rule_made,
                    "changes": self.changes(own),
                    "caused": caused,
                    "caused_by": [] if rule_made else rules,
                }
            )
        return out


def history_model(
    ctx: WriteContext, entity: CompiledEntity, record_id: int, lookups: Lookups, hidden: frozenset[str]
) -> list[dict[str, Any]]:
    """The audit trail of a record, newest first (changes of fields hidden from the actor left out)."""
    return HistoryView(ctx, entity, lookups, hidden).entries(record_id)
