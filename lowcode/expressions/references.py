"""The names an expression reads: each top-level name with the field keys read through it.

``line.qty * price`` reads ``line`` (key ``qty``) and ``price``; a publish-time checker resolves them
against what the expression will run with (:mod:`lowcode.definitions.names`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lowcode.expressions.parser import Attribute, Name, Node, children


@dataclass(frozen=True)
class Reference:
    """``name`` read directly (``keys == ()``) or through ``name.keys[0].keys[1]...``."""

    name: str
    keys: tuple[str, ...] = ()


def references(tree: Node) -> Iterator[Reference]:
    """Every name the tree reads, in no particular order (without recursion, like ``walk``)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Attribute) and isinstance(node.target, Name):
            yield Reference(node.target.name, node.keys)
            continue
        if isinstance(node, Name):
            yield Reference(node.name)
            continue
        stack.extend(children(node))
