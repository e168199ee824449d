"""The expression language: literals, precedence, exact decimals, nulls, dotted access, names, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, localcontext

import pytest

from lowcode.errors import ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import Expression, compile_expression
from lowcode.expressions.parser import Arithmetic, Attribute, Call, Literal, Logical, Name, Unary, parse


def evaluate(text: str, **names: object) -> object:
    return compile_expression(text).evaluate(names)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", Decimal("12")),
        ("3.50", Decimal("3.50")),
        ("0.001", Decimal("0.001")),
        ('"double"', "double"),
        ("'single'", "single"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"a\tb\nc\rd\\e"', "a\tb\nc\rd\\e"),
        ("''", ""),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(text: str, expected: object) -> None:
    result = evaluate(text)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, Decimal):
        assert str(result) == str(expected)  # the scale of the literal is kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("10 - (4 - 3)", Decimal(9)),
        ("2 * 3 % 4", Decimal(2)),
        ("2 * (3 % 4)", Decimal(6)),
        ("12 / 4 / 3", Decimal(1)),
        ("10 / 4 * 2", Decimal(5)),
        ("-2 * 3", Decimal(-6)),
        ("- (2 + 3)", Decimal(-5)),
        ("--2", Decimal(2)),
        ("2 - -2", Decimal(4)),
        ("1 + 2 * 3 - 4 / 2", Decimal(5)),
        ("1 + 2 = 3", True),
        ("2 * 3 > 5 + 0", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not true and false", False),
        ("not (true and false)", True),
        ("not 1 = 2", True),
        ("not not true", True),
        ("1 < 2 and 3 > 4 or 5 >= 5", True),
        ("(1 < 2) = true", True),
        ("1 + -2 * 3", Decimal(-5)),
        ("10 - (4 - 3) - 2", Decimal(7)),
        ("true and not false or false", True),
        ("false and false or true", True),
    ],
)
def test_precedence(text: str, expected: object) -> None:
    assert evaluate(text) == expected


def test_flat_chains_make_a_shallow_tree() -> None:
    assert parse("a + b - c") == Arithmetic((Name("a"), Name("b"), Name("c")), ("+", "-"))
    assert parse("a + b * c") == Arithmetic((Name("a"), Arithmetic((Name("b"), Name("c")), ("*",))), ("+",))
    assert parse("(a - b) - c") == parse("a - b - c")
    assert parse("a or b or c") == Logical("or", (Name("a"), Name("b"), Name("c")))
    assert parse("-x.y") == Unary("-", Attribute(Name("x"), ("y",)))
    assert parse("x.y.z") == Attribute(Name("x"), ("y", "z"))
    assert parse("round(1, 2)") == Call("round", (Literal(Decimal(1)), Literal(Decimal(2))))


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("0.1 + 0.2", {}, Decimal("0.3")),
        ("qty * unit_price", {"qty": 3, "unit_price": Decimal("19.99")}, Decimal("59.97")),
        ("x * y", {"x": 2, "y": 0.1}, Decimal("0.2")),
        ("f", {"f": 0.1}, Decimal("0.1")),
        ("n", {"n": 7}, Decimal(7)),
        ("1 / 3", {}, Decimal(1) / Decimal(3)),
        ("10 / 4", {}, Decimal("2.5")),
        ("2 / 3 * 3", {}, Decimal("2.000000000000000000000000000")),
        ("-7 % 3", {}, Decimal(-1)),
        ("7.5 % 2", {}, Decimal("1.5")),
        ("1.10 + 2.205", {}, Decimal("3.305")),
        # 28 significant digits, like Python's default Decimal context
        ("10000000000000000000 * 10000000001", {}, Decimal("1.000000000100000000000000000E+29")),
    ],
)
def test_decimal_exactness(text: str, names: dict[str, object], expected: Decimal) -> None:
    result = evaluate(text, **names)
    assert type(result) is Decimal
    assert result == expected
    assert str(result) == str(expected)


def test_point_one_plus_point_two_equals_point_three() -> None:
    assert evaluate("0.1 + 0.2 = 0.3") is True


def test_callers_decimal_context_does_not_change_results() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        assert evaluate("1 / 3") == Decimal("0.3333333333333333333333333333")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 = 1", True),
        ("1 == 1.00", True),
        ("1 != 2", True),
        ("1 <> 1", False),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("1 > 2", False),
        ("2 >= 3", False),
        ("'a' < 'b'", True),
        ("'a' = 'a'", True),
        ("1 = '1'", False),
        ("true = 1", False),
        ("true != 1", True),
        ("d1 < d2", True),
        ("d1 = d1", True),
        ("t1 > t2", True),
        ("d1 = t1", False),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    names = {
        "d1": date(2024, 1, 1),
        "d2": date(2024, 1, 2),
        "t1": datetime(2024, 1, 1, 12, tzinfo=UTC),
        "t2": datetime(2024, 1, 1, 11, tzinfo=UTC),
    }
    assert evaluate(text, **names) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"a" + "b"', "ab"),
        ('first + " " + last', "Ada Lovelace"),
        ('"" + ""', ""),
    ],
)
def test_string_concat(text: str, expected: str) -> None:
    assert evaluate(text, first="Ada", last="Lovelace") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + 1", None),
        ("1 - x", None),
        ("x * 2", None),
        ("x / 0", None),
        ("x + 'a'", None),
        ("-x", None),
        ("x < 1", False),
        ("x >= 1", False),
        ("1 > x", False),
        ("x = null", True),
        ("x != null", False),
        ("x <> null", False),
        ("y = null", False),
        ("y != null", True),
        ("null = null", True),
        ("x = z", True),
        ("x = y", False),
        ("not x", True),
        ("x and true", False),
        ("x or true", True),
    ],
)
def test_null_handling(text: str, expected: object) -> None:
    assert evaluate(text, x=None, y=Decimal(1), z=None) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("false and 1 / 0 = 1", False),
        ("true or 1 / 0 = 1", True),
        ("if(true, 1, 1 / 0)", Decimal(1)),
        ("if(false, 1 / 0, 2)", Decimal(2)),
        ("if(qty > 0, total / qty, 0)", Decimal(0)),
    ],
)
def test_short_circuit_and_lazy_if(text: str, expected: object) -> None:
    assert evaluate(text, qty=0, total=10) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("line.qty * line.price", Decimal("7.50")),
        ("record.customer.name", "ACME"),
        ("record.customer.country.code", None),
        ("record.owner.name", None),
        ("line.null", "odd key"),
        ("(record).customer.name", "ACME"),
        ("coalesce(record.owner, record.customer).name", "ACME"),
    ],
)
def test_dotted_access(text: str, expected: object) -> None:
    names = {
        "line": {"qty": 3, "price": 2.5, "null": "odd key"},
        "record": {"customer": {"name": "ACME", "country": None}, "owner": None},
    }
    assert evaluate(text, **names) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qty * unit_price + line.amount", {"qty", "unit_price", "line"}),
        ("round(x, 2)", {"x"}),
        ("if(a, b.c, 'x')", {"a", "b"}),
        ("a + a * a", {"a"}),
        ("1 + 2", set()),
        ("today()", set()),
        ("record.customer.name", {"record"}),
    ],
)
def test_names(text: str, expected: set[str]) -> None:
    expression = compile_expression(text)
    assert expression.names == frozenset(expected)
    assert isinstance(expression.names, frozenset)
    assert expression.source == text


def test_expression_is_reusable_and_has_a_repr() -> None:
    expression = compile_expression("a * 2")
    assert isinstance(expression, Expression)
    assert expression.evaluate({"a": 1}) == 2
    assert expression.evaluate({"a": Decimal("1.5")}) == Decimal("3.0")
    assert repr(expression) == "Expression('a * 2')"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("1 +", 3, "unexpected end of expression"),
        ("(1 + 2", 6, "expected ')'"),
        ("1 + 2)", 5, "unexpected ')'"),
        ("1 2", 2, "unexpected '2'"),
        ("1 # 2", 2, "unexpected character '#'"),
        ("a ! b", 2, "unexpected character '!'"),
        ('"abc', 0, "unterminated string"),
        ("'abc\\", 0, "unterminated string"),
        (r"'a\qb'", 2, "unknown escape"),
        ("12abc", 0, "malformed number"),
        ("1.5.2", 3, "a literal has no fields"),
        ("x.", 2, "expected a field name"),
        ("x.1", 2, "expected a field name"),
        ("1 < 2 < 3", 6, "cannot be chained"),
        ("a = b = c", 6, "cannot be chained"),
        ("1 + not x", 4, "unexpected 'not'"),
        ("- not x", 2, "unexpected 'not'"),
        ("f(1,)", 4, "unexpected ')'"),
        ("round(1, 2", 10, "expected ')'"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("and", 0, "unexpected 'and'"),
        ("_private", 0, "'_'"),
        ("record._secret", 7, "'_'"),
        ("x.__class__", 2, "'_'"),
        ("__import__('os')", 0, "'_'"),
        ("nope(1)", 0, "unknown function 'nope'"),
        ("1 + upper_case(x)", 4, "unknown function 'upper_case'"),
        ("round()", 0, "takes 1 to 2 arguments, got 0"),
        ("abs(1, 2)", 0, "takes 1 arguments, got 2"),
        ("today(1)", 0, "takes 0 arguments, got 1"),
        ("x + min()", 4, "takes 1 or more arguments, got 0"),
    ],
)
def test_syntax_errors_report_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(text)
    assert fragment in info.value.message
    assert f"at position {position}" in info.value.message
    assert info.value.extra["position"] == position


def test_non_text_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["a" * 2001, "1 + " * 500 + "1", "'" + "x" * 2000 + "'"])
def test_overly_long_text_is_refused(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="longer than 2000"):
        compile_expression(text)


def test_text_of_exactly_2000_characters_is_accepted() -> None:
    assert compile_expression(" " * 1999 + "1").evaluate({}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "1" + ")" * 10_000,
        "-" * 10_000 + "1",
        "not " * 5_000 + "true",
        "abs(" * 10_000 + "1" + ")" * 10_000,
    ],
)
def test_absurd_nesting_is_refused_without_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested deeper than 50"):
        parse(text)  # the parser itself, so the length limit does not hide the nesting guard
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(text)


@pytest.mark.parametrize(
    ("depth", "ok"),
    [(50, True), (51, False), (999, False)],
)
def test_nesting_limit_for_parentheses(depth: int, ok: bool) -> None:
    text = "(" * depth + "1" + ")" * depth
    if ok:
        assert compile_expression(text).evaluate({}) == 1
    else:
        with pytest.raises(ExpressionSyntaxError, match="nested deeper than 50"):
            compile_expression(text)


def test_tree_depth_is_limited_even_with_few_parentheses() -> None:
    # each level adds or/and/comparison/+/* nodes: a 51+ deep tree from only 12 parentheses
    level = "x or y and z = w + v * ({})"
    text = "1"
    for _ in range(12):
        text = level.format(text)
    with pytest.raises(ExpressionSyntaxError, match="nested deeper than 50"):
        compile_expression(text)


def test_long_flat_sum_is_fine() -> None:
    names = {f"f{i}": i for i in range(300)}
    text = " + ".join(names)
    assert len(text) <= 2000
    assert compile_expression(text).evaluate(names) == sum(range(300))


@pytest.mark.parametrize(
    ("text", "names", "fragment"),
    [
        ("1 / 0", {}, "division by zero"),
        ("1 % 0", {}, "division by zero"),
        ("x / 0.00", {"x": 0}, "division by zero"),
        ("missing + 1", {}, "unknown name 'missing'"),
        ("1 + 'a'", {}, "cannot add number and text"),
        ("'a' - 'b'", {}, "cannot subtract text and text"),
        ("'a' * 2", {}, "cannot multiply text and number"),
        ("true + 1", {}, "cannot add boolean and number"),
        ("d + 1", {"d": date(2024, 1, 1)}, "cannot add date and number"),
        ("-'a'", {}, "cannot negate a text"),
        ("not 1", {}, "'not' expects true/false, got number"),
        ("1 and true", {}, "'and' expects true/false, got number"),
        ("false or 'yes'", {}, "'or' expects true/false, got text"),
        ("1 < 'a'", {}, "cannot compare number and text"),
        ("true < false", {}, "cannot compare boolean and boolean"),
        ("d < t", {"d": date(2024, 1, 1), "t": datetime(2024, 1, 1)}, "cannot compare date and datetime"),
        ("t < u", {"t": datetime(2024, 1, 1), "u": datetime(2024, 1, 1, tzinfo=UTC)}, "cannot compare"),
        ("line.amont", {"line": {"amount": 1}}, "'line' has no field 'amont'"),
        ("a.b.c", {"a": {"b": {}}}, "'a.b' has no field 'c'"),
        ("x.real", {"x": 1}, "cannot read field 'real' of a number"),
        ("s.upper", {"s": "text"}, "cannot read field 'upper' of a text"),
        ("n = 1", {"n": Decimal("sNaN")}, "arithmetic error"),
    ],
)
def test_evaluation_errors(text: str, names: dict[str, object], fragment: str) -> None:
    expression = compile_expression(text)
    with pytest.raises(ExpressionEvaluationError) as info:
        expression.evaluate(names)
    assert fragment in info.value.message


def test_objects_are_never_read_with_getattr() -> None:
    class Secretive:
        secret = "hidden"

    with pytest.raises(ExpressionEvaluationError, match="cannot read field 'secret'"):
        compile_expression("obj.secret").evaluate({"obj": Secretive()})
