"""App names the URLs keep for themselves: a fixed path segment standing where an app's name stands in
another route (``/design/import`` beside ``/design/<app>``) would make that app's page unreachable, so such a
name is refused when an app is created, imported or made through the definitions API. The names are read
from the URL map once the routes are registered (:func:`fixed_segments_beside`), never listed by hand."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from lowcode.core.texts import Text
from lowcode.errors import DefinitionInvalid

_VARIABLE = re.compile(r"^<(?:[a-z_]+(?:\([^)]*\))?:)?(?P<name>[A-Za-z_]\w*)>$")


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _variable(segment: str) -> str | None:
    match = _VARIABLE.match(segment)
    return match.group("name") if match else None


def fixed_segments_beside(paths: Iterable[str], variable: str = "app") -> frozenset[str]:
    """Every fixed segment of ``paths`` (URL rules) that stands where ``<variable>`` stands in another rule
    with the same segments before it."""
    rules = [_segments(p) for p in paths]
    prefixes = {
        tuple(parts[:i]) for parts in rules for i, seg in enumerate(parts) if _variable(seg) == variable
    }
    return frozenset(
        parts[len(prefix)]
        for parts in rules
        for prefix in prefixes
        if len(parts) > len(prefix)
        and tuple(parts[: len(prefix)]) == prefix
        and _variable(parts[len(prefix)]) is None
    )


def require_free_app_name(name: str, reserved: Collection[str], path: str = "name") -> None:
    """Refuse an app name a route keeps for itself. :raises DefinitionInvalid: at ``path``."""
    if name in reserved:
        message = Text(
            "'{name}' cannot be an app's name: the pages use it in their addresses (choose another name)",
            name=name,
        )
        raise DefinitionInvalid(message, fields={path: [message]})
