"""Renaming a field where an expression reads it: the names of the expression rewritten token by token."""

from __future__ import annotations

from lowcode.errors import LowcodeError
from lowcode.expressions.lexer import tokenize


def rename_name(text: str, old: str, new: str) -> str:
    """``text`` with every read of the name ``old`` written ``new`` - not a function called ``old``, not a
    field read through another record (``line.old``), not text inside a string. An expression that does not
    parse is returned as it is (its check reports it)."""
    try:
        tokens = tokenize(text)
    except LowcodeError:
        return text
    spots = [
        token.pos
        for i, token in enumerate(tokens)
        if token.kind == "name"
        and token.value == old
        and not (i > 0 and tokens[i - 1].kind == "op" and tokens[i - 1].value == ".")
        and not (i + 1 < len(tokens) and tokens[i + 1].kind == "op" and tokens[i + 1].value == "(")
    ]
    for pos in reversed(spots):
        text = text[:pos] + new + text[pos + len(old) :]
    return text
