"""Where a field is used, before it is renamed or removed (the designer's "used by" panel).

:func:`find_usages` looks through an app's definitions as published-or-draft (kind -> name -> document, as
:class:`~lowcode.definitions.checks.AppDocuments` holds them) for field ``field`` of entity ``entity``:
formulas, rollups and ``fetch_from`` of any entity (a child's field read by its parent's rollup), forms,
views (with other entities' related lists), roles, rules (their actions walked with the scopes they run in),
workflows and the app definition. Each definition kind has its finder in :data:`usage_finders`; the
documents need not pass the publish checks (a usage in a broken draft is still found where it can be read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.usages_access import app_usages, role_usages, workflow_usages
from lowcode.designer.usages_dashboards import dashboard_usages
from lowcode.designer.usages_entities import entity_usages, form_usages, register_field_finders, view_usages
from lowcode.designer.usages_mappings import mapping_usages, subscription_usages
from lowcode.designer.usages_reports import report_usages
from lowcode.designer.usages_rules import rule_usages
from lowcode.designer.usages_search import Search, Usage
from lowcode.registry import Registry

UsageFinder = Callable[[str, Mapping[str, Any], Search], None]
"""``(definition name, document, search)``: record the usages in one document."""
usage_finders: Registry[UsageFinder] = Registry("usage finder")

KIND_ORDER = (
    "entity",
    "form",
    "view",
    "rule",
    "role",
    "workflow",
    "mapping",
    "subscription",
    "report",
    "dashboard",
    "app",
)
"""The order usages are listed in (kinds not named here come last, by name)."""


def register_usage_finders(registry: Registry[UsageFinder] = usage_finders) -> None:
    """The finders of the built-in definition kinds (idempotent); the field types' ones too."""
    finders = {
        "entity": entity_usages,
        "form": form_usages,
        "view": view_usages,
        "rule": rule_usages,
        "role": role_usages,
        "workflow": workflow_usages,
        "mapping": mapping_usages,
        "subscription": subscription_usages,
        "report": report_usages,
        "dashboard": dashboard_usages,
        "app": app_usages,
    }
    for kind, finder in finders.items():
        if kind not in registry:
            registry.register(kind, finder)
    register_field_finders()


def find_usages(
    docs: Mapping[str, Mapping[str, Any]] | AppDocuments,
    entity: str,
    field: str,
    registry: Registry[UsageFinder] = usage_finders,
) -> list[Usage]:
    """Every place in ``docs`` that uses field ``field`` of ``entity``, by kind (entities first), name and
    path. A definition kind without a finder is skipped (the registry must hold one per kind the store
    accepts: a test checks the schemas' kinds).
    """
    app_docs = docs if isinstance(docs, AppDocuments) else AppDocuments(docs)
    search = Search(app_docs, entity, field)
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    for kind in sorted(app_docs.docs, key=lambda k: (order.get(k, len(order)), k)):
        if kind not in registry:
            continue
        finder = registry.get(kind)
        for name, doc in sorted(app_docs.of(kind).items()):
            if isinstance(doc, Mapping):
                search.at(kind, name)
                finder(name, doc, search)
    return search.found


__all__ = ["Usage", "find_usages", "register_usage_finders", "usage_finders"]
