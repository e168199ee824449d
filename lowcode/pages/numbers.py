"""Numbers on pages: each field's :class:`~lowcode.core.numbers.NumberStyle` from its field type (the
field-type registry's ``number_style`` hook), resolved within its entity so that a formula or rollup over
money fields shows as money (:mod:`lowcode.runtime.number_style`), rendered for the reader's locale with
Babel. The API keeps exact strings."""

from __future__ import annotations

from typing import Any

from lowcode.core.number_styles import NumberStyle, format_number
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.number_style import number_style


class NumberFormats:
    """Formats numbers of fields for one reader, with each field's style worked out once."""

    def __init__(self, snapshot: Any, language: str):
        self.snapshot = snapshot
        self.language = language
        self.styles: dict[tuple[str, str, str], NumberStyle | None] = {}

    def style(self, entity: CompiledEntity, cf: CompiledField) -> NumberStyle | None:
        """The style of ``cf`` (cached)."""
        key = (entity.app, entity.name, cf.name)
        if key not in self.styles:
            self.styles[key] = number_style(self.snapshot, entity, cf)
        return self.styles[key]

    def format(self, entity: CompiledEntity, cf: CompiledField, value: Any) -> str | None:
        """``value`` as text, or None when ``cf`` does not hold numbers (the field type formats it)."""
        style = self.style(entity, cf)
        return None if style is None else format_number(value, style, self.language)
