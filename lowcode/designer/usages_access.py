"""Where roles, workflows and the app definition use a field ("used by" finders of these kinds): field rules
and record rules of role grants, a workflow's state field, locks, transition conditions and required fields,
and the app's sensitive operations and work-queue conditions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.names import CONDITION_SCOPE
from lowcode.designer.usages_search import Search


def role_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """Each grant's field rules and record rule (context rules name no fields)."""
    for i, grant in enumerate(doc.get("grants") or []):
        entity = grant.get("entity", "")
        for field in grant.get("fields") or {}:
            what = Text("field rule of role '{role}'", role=name)
            search.name(f"/grants/{i}/fields/{field}", entity, field, what)
        what = Text("record rule of role '{role}'", role=name)
        search.condition(f"/grants/{i}/record_rule", grant.get("record_rule"), entity, CONDITION_SCOPE, what)


def workflow_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """The state field, what states lock, and the transitions' conditions and required fields."""
    entity = doc.get("entity", "")
    search.name("/state_field", entity, doc.get("state_field"), Text("workflow state field"))
    for i, state in enumerate(doc.get("states") or []):
        lock = state.get("lock") or {}
        what = Text("lock of state '{state}'", state=state.get("name"))
        for key in ("fields", "except"):
            search.names(f"/states/{i}/lock/{key}", entity, lock.get(key), what)
    for i, transition in enumerate(doc.get("transitions") or []):
        here, step = f"/transitions/{i}", transition.get("name")
        what = Text("condition of transition '{transition}'", transition=step)
        search.condition(f"{here}/condition", transition.get("condition"), entity, CONDITION_SCOPE, what)
        what = Text("required field of transition '{transition}'", transition=step)
        search.names(f"{here}/required_fields", entity, transition.get("required_fields"), what)


def app_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """Sensitive operations (fields, condition) and work queues (condition)."""
    for i, op in enumerate(doc.get("sensitive_operations") or []):
        entity, what = (
            op.get("entity", ""),
            Text("sensitive operation '{operation}'", operation=op.get("name")),
        )
        search.names(f"/sensitive_operations/{i}/fields", entity, op.get("fields"), what)
        search.condition(
            f"/sensitive_operations/{i}/condition", op.get("condition"), entity, CONDITION_SCOPE, what
        )
    for i, queue in enumerate(doc.get("queues") or []):
        what = Text("menu queue condition '{queue}'", queue=queue.get("name"))
        search.condition(
            f"/queues/{i}/condition", queue.get("condition"), queue.get("entity", ""), CONDITION_SCOPE, what
        )
