"""Property tests: random arithmetic agrees with the same computation done directly with Python Decimal."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, DecimalException, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from lowcode.errors import ExpressionEvaluationError
from lowcode.expressions import compile_expression

# A generated case is (source text, thunk computing the expected value with plain Decimal operators).
Case = tuple[str, Callable[[], Decimal]]

OPERATORS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}

magnitudes = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def leaves(draw: st.DrawFn) -> Case:
    text = format(draw(magnitudes), "f")
    if draw(st.booleans()):
        return f"(-{text})", lambda: -Decimal(text)
    return text, lambda: Decimal(text)


def combine(children: st.SearchStrategy[Case]) -> st.SearchStrategy[Case]:
    def build(left: Case, op: str, right: Case) -> Case:
        return f"({left[0]} {op} {right[0]})", lambda: OPERATORS[op](left[1](), right[1]())

    return st.builds(build, children, st.sampled_from(sorted(OPERATORS)), children)


trees = st.recursive(leaves(), combine, max_leaves=16)


def expected_value(thunk: Callable[[], Decimal]) -> Decimal | None:
    """The Python Decimal result in the default context, or None when Python raises."""
    with localcontext() as ctx:
        ctx.prec = 28
        try:
            return thunk()
        except DecimalException:
            return None


def check(text: str, expected: Decimal | None) -> None:
    expression = compile_expression(text)
    if expected is None:
        try:
            expression.evaluate({})
        except ExpressionEvaluationError:
            return
        raise AssertionError(f"{text} should have failed")
    result = expression.evaluate({})
    assert type(result) is Decimal
    assert result == expected
    assert result.as_tuple() == expected.as_tuple(), text  # same digits and exponent, not just equal


@settings(max_examples=300, deadline=None)
@given(trees)
def test_random_parenthesized_arithmetic_matches_python_decimal(case: Case) -> None:
    text, thunk = case
    check(text, expected_value(thunk))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(magnitudes, min_size=1, max_size=8),
    st.lists(st.sampled_from(sorted(OPERATORS)), min_size=7, max_size=7),
)
def test_random_flat_arithmetic_follows_precedence(numbers: list[Decimal], ops: list[str]) -> None:
    ops = ops[: len(numbers) - 1]
    parts = [format(numbers[0], "f")]
    for op, n in zip(ops, numbers[1:], strict=True):
        parts += [op, format(n, "f")]
    text = " ".join(parts)

    def by_hand() -> Decimal:
        # fold * / % first (left to right), then + - (left to right)
        terms, signs = [Decimal(format(numbers[0], "f"))], []
        for op, n in zip(ops, numbers[1:], strict=True):
            value = Decimal(format(n, "f"))
            if op in "*/%":
                terms[-1] = OPERATORS[op](terms[-1], value)
            else:
                signs.append(op)
                terms.append(value)
        total = terms[0]
        for sign, term in zip(signs, terms[1:], strict=True):
            total = OPERATORS[sign](total, term)
        return total

    check(text, expected_value(by_hand))


@settings(max_examples=200, deadline=None)
@given(magnitudes, magnitudes, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
def test_random_comparisons_match_python(a: Decimal, b: Decimal, op: str) -> None:
    python = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}
    python |= {">": operator.gt, ">=": operator.ge}
    text = f"{format(a, 'f')} {op} {format(b, 'f')}"
    assert compile_expression(text).evaluate({}) is python[op](a, b)
