"""Where a dashboard uses a field: nowhere directly - its widgets name reports (checked by the dashboard's
publish check, so a report renamed or removed is refused while a dashboard shows it) and its parameters name
entities, not fields. The finder exists so that every definition kind has one (a field rename looks at every
kind) and records nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.designer.usages_search import Search


def dashboard_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """A dashboard names no field (see the module's docstring)."""
    return None
