"""Tokenizer for the expression language: turns source text into a list of `Token` objects.

Every token records its 0-based character offset so syntax errors can say where they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lowcode.errors import ExpressionSyntaxError

#: Words with a fixed meaning; they cannot be used as plain names (they may still follow a dot).
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})

# Longest first, so "<=" wins over "<".
_OPERATORS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".")

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Token:
    """One lexical unit.

    :param kind: ``"number"``, ``"string"``, ``"name"``, ``"keyword"``, ``"op"`` or ``"end"``.
    :param value: the Decimal for numbers, the decoded text for strings, else the token's text.
    :param pos: 0-based offset of the token's first character in the source.
    """

    kind: str
    value: object
    pos: int


def syntax_error(message: str, pos: int) -> ExpressionSyntaxError:
    """Build an `ExpressionSyntaxError` whose message ends with the position (also kept in ``extra``)."""
    return ExpressionSyntaxError(f"{message} at position {pos}", position=pos)


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or _is_digit(ch)


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``"end"`` token.

    :raises ExpressionSyntaxError: for an unknown character, a bad number or string, or a name
        starting with ``_`` (such names are refused so nothing can reach Python internals).
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif _is_digit(ch):
            i = _number(text, i, tokens)
        elif ch in "'\"":
            i = _string(text, i, tokens)
        elif _is_name_start(ch):
            start = i
            while i < n and _is_name_char(text[i]):
                i += 1
            word = text[start:i]
            if word.startswith("_"):
                raise syntax_error(f"names starting with '_' are not allowed ('{word}')", start)
            tokens.append(Token("keyword" if word in KEYWORDS else "name", word, start))
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise syntax_error(f"unexpected character {ch!r}", i)
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("end", "", n))
    return tokens


def _number(text: str, i: int, tokens: list[Token]) -> int:
    start, n = i, len(text)
    while i < n and _is_digit(text[i]):
        i += 1
    if i + 1 < n and text[i] == "." and _is_digit(text[i + 1]):
        i += 1
        while i < n and _is_digit(text[i]):
            i += 1
    if i < n and _is_name_char(text[i]):
        raise syntax_error(f"malformed number {text[start : i + 1]!r}", start)
    tokens.append(Token("number", Decimal(text[start:i]), start))
    return i


def _string(text: str, i: int, tokens: list[Token]) -> int:
    quote, start, n = text[i], i, len(text)
    i += 1
    parts: list[str] = []
    while i < n and text[i] != quote:
        if text[i] == "\\":
            if i + 1 >= n:
                raise syntax_error("unterminated string", start)
            escaped = _ESCAPES.get(text[i + 1])
            if escaped is None:
                raise syntax_error(f"unknown escape '\\{text[i + 1]}' in string", i)
            parts.append(escaped)
            i += 2
        else:
            parts.append(text[i])
            i += 1
    if i >= n:
        raise syntax_error("unterminated string", start)
    tokens.append(Token("string", "".join(parts), start))
    return i + 1
