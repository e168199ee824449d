"""Source paths of a mapping: ``customer.code``, ``$.a.b``, ``items[0].sku``, ``items[*]`` (docs/MAPPINGS.md).

A path is parsed once (:func:`parse_path`) into steps - a key of an object, an index of a list, or ``[*]``
(every item of a list, allowed as the last step only) - and read against one source item with
:func:`read_path`. A key or index that is not there reads as :data:`MISSING`; a step that meets the wrong
kind of value (a key of a list, an index of a text) is a :class:`PathError`, reported with the path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_STEPS = 32
"""The most steps a path may have (a path is at most 300 characters anyway)."""


class _Missing:
    """The value of a path that is not in the source (distinct from an explicit null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""A path's value when its key or index is not in the source."""


class PathError(ValueError):
    """A path that does not parse, or that meets a value of the wrong kind."""


EVERY = "*"
"""The ``[*]`` step: every item of a list."""


@dataclass(frozen=True)
class SourcePath:
    """A parsed path: its text and its steps (``str`` key, ``int`` index or :data:`EVERY`)."""

    text: str
    steps: tuple[str | int, ...]

    @property
    def is_list(self) -> bool:
        """Whether the path ends in ``[*]`` (it reads a list)."""
        return bool(self.steps) and self.steps[-1] == EVERY

    @property
    def without_every(self) -> SourcePath:
        """The same path without its final ``[*]``."""
        return SourcePath(self.text.removesuffix("[*]"), self.steps[:-1]) if self.is_list else self


_STEP = re.compile(r"\[(\*|\d{1,9})\]")


def parse_path(text: str) -> SourcePath:
    """Parse a path. ``$`` alone (or an empty path after ``$.``) is the whole item.

    :raises PathError: empty keys, an unclosed ``[``, ``[*]`` before the last step, more than MAX_STEPS steps.
    """
    if not isinstance(text, str) or not text:
        raise PathError("a path is a non-empty text")
    rest = text[2:] if text.startswith("$.") else "" if text == "$" else text
    steps: list[str | int] = []
    for part in rest.split(".") if rest else []:
        key, _, tail = part.partition("[")
        if not key:
            raise PathError(f"empty key in path '{text}'")
        steps.append(key)
        tail = f"[{tail}" if _ else ""
        while tail:
            match = _STEP.match(tail)
            if not match:
                raise PathError(f"bad index in path '{text}' (use [0] or [*])")
            steps.append(EVERY if match.group(1) == EVERY else int(match.group(1)))
            tail = tail[match.end() :]
    if EVERY in steps[:-1]:
        raise PathError(f"[*] may only end a path ('{text}')")
    if len(steps) > MAX_STEPS:
        raise PathError(f"path '{text}' has more than {MAX_STEPS} steps")
    return SourcePath(text, tuple(steps))


def column_path(header: str) -> SourcePath:
    """A spreadsheet column read by its header name, exactly as written (dots and brackets included)."""
    return SourcePath(header, (header,))


def read_path(item: Any, path: SourcePath) -> Any:
    """The value at ``path`` in ``item``; :data:`MISSING` if a key or index is absent, the list itself for
    ``[*]``. :raises PathError: when a step meets a value of the wrong kind."""
    value = item
    for step in path.steps:
        if value is None or value is MISSING:
            return MISSING
        if step == EVERY:
            if not _is_list(value):
                raise PathError(f"'{path.text}': expected a list, got {_kind(value)}")
        elif isinstance(step, int):
            if not _is_list(value):
                raise PathError(f"'{path.text}': expected a list, got {_kind(value)}")
            value = value[step] if step < len(value) else MISSING
        else:
            if not isinstance(value, Mapping):
                raise PathError(f"'{path.text}': expected an object at '{step}', got {_kind(value)}")
            value = value.get(step, MISSING)
    return value


def write_path(target: dict[str, Any], path: SourcePath, value: Any) -> None:
    """Set ``value`` at ``path`` in a payload being built (objects made on the way; keys only).

    :raises PathError: for an index or ``[*]`` step (outbound paths are keys only)."""
    *parents, last = path.steps or ("",)
    node = target
    for step in parents:
        if not isinstance(step, str):
            raise PathError(f"outbound path '{path.text}' may only use keys")
        node = node.setdefault(step, {})
        if not isinstance(node, dict):
            raise PathError(f"outbound path '{path.text}' crosses a value at '{step}'")
    if not isinstance(last, str) or not last:
        raise PathError(f"outbound path '{path.text}' may only use keys")
    node[last] = value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if _is_list(value):
        return "a list"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, (int, float)) or type(value).__name__ == "Decimal" else "a value"
