"""Where rules use a field ("used by" finder of rules): the trigger (fields changed, transition field,
conditions), the schedule's condition, and every action - walked by the same code as the publish checks
(:func:`lowcode.rules.names.check_actions`, each action's ``check_in_app``) with the scope each action runs
in, so ``line.qty`` inside ``for_each_child`` and ``reserved`` in an upsert's ``set`` resolve to their
entities exactly as they will at run time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.names import CONDITION_SCOPE, USER, join
from lowcode.designer.usages_search import Search
from lowcode.errors import LowcodeError
from lowcode.rules.actions.base import TEMPLATE_PART, message_texts
from lowcode.rules.names import ActionCheck, check_actions, trigger_scope


class UsageCheck(ActionCheck):
    """The publish checks' walk of a rule's actions, recording usages of the searched field in the
    :class:`Search` (held as ``errors``) instead of problems."""

    @property
    def search(self) -> Search:
        """The search the usages go to."""
        return self.errors

    def what(self, where: str) -> str:
        """Which action and option of the rule (``rule 'reserve': upsert set``)."""
        action = _at(self.rule, self.path)
        kind = action.get("type", "") if isinstance(action, Mapping) else ""
        return Text(
            "rule '{rule}': {action} {option}",
            rule=self.rule["name"],
            action=kind,
            option=where.split("/")[0],
        )

    def add(self, where: str, message: str) -> None:
        """Problems are the publish checks' business."""

    def expression(self, where: str, text: Any, scope=None) -> None:
        """See :meth:`ActionCheck.expression`."""
        scope = self.scope if scope is None else scope
        self.search.expression(join(self.path, where), text, scope, self.what(where))

    def template(self, where: str, text: Any, scope=None) -> None:
        """See :meth:`ActionCheck.template`."""
        for part in (p for t in message_texts(text) for p in TEMPLATE_PART.findall(t)):
            self.expression(where, part, scope)

    def condition(self, where: str, doc: Any, entity: str) -> None:
        """See :meth:`ActionCheck.condition`."""
        scope = {**self.scope, "user": USER}
        self.search.condition(join(self.path, where), doc, entity, scope, self.what(where))

    def fields(self, where, names, allowed, what, entity: str = "") -> None:
        """See :meth:`ActionCheck.fields`."""
        for name in names:
            self.search.name(f"{join(self.path, where)}/{name}", entity, name, self.what(where))

    def names_field(self, where: str, entity: str, name: str) -> None:
        """See :meth:`ActionCheck.names_field`."""
        self.search.name(join(self.path, where), entity, name, self.what(where))


def _at(doc: Any, path: str) -> Any:
    """The part of ``doc`` at JSON path ``path`` (None where there is none)."""
    for part in path.strip("/").split("/"):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, Mapping):
            doc = doc.get(part)
        else:
            return None
    return doc


def rule_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """The rule's trigger or schedule and its actions."""
    entity = doc.get("entity", "")
    trigger = doc.get("trigger") or {}
    search.names(
        "/trigger/fields_changed",
        entity,
        trigger.get("fields_changed"),
        Text("rule '{rule}' trigger field", rule=name),
    )
    if isinstance(trigger.get("transition"), Mapping):
        what = Text("rule '{rule}' trigger transition field", rule=name)
        search.name("/trigger/transition/field", entity, trigger["transition"].get("field"), what)
    for key in ("condition", "old_condition"):
        what = Text("rule '{rule}' condition", rule=name)
        search.condition(f"/trigger/{key}", trigger.get(key), entity, CONDITION_SCOPE, what)
    schedule = doc.get("schedule") or {}
    what = Text("rule '{rule}' schedule condition", rule=name)
    search.condition("/schedule/condition", schedule.get("condition"), entity, CONDITION_SCOPE, what)
    if entity not in search.docs.entities or not isinstance(doc.get("actions"), list):
        return
    try:
        scope = trigger_scope(doc, search.docs)
        check_actions(doc, search.docs, "/actions", doc["actions"], scope, search, UsageCheck)
    except (LowcodeError, KeyError, TypeError, AttributeError):
        # a draft whose actions do not fit their schemas yet: the usages found before it are kept
        pass
