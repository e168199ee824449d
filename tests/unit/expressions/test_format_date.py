"""format_date(): dates and date-times as text with YYYY YY MM DD HH mm ss tokens (e.g. accounting periods)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lowcode.errors import ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import compile_expression

NAMES = {"d": date(2026, 3, 7), "t": datetime(2026, 12, 31, 8, 5, 9), "nothing": None, "n": 5, "s": "x"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format_date(d, 'YYYY-MM')", "2026-03"),
        ("format_date(d, 'YYYYMMDD')", "20260307"),
        ("format_date(d, 'DD/MM/YY')", "07/03/26"),
        ("format_date(d, 'YYYY-MM-DD HH:mm:ss')", "2026-03-07 00:00:00"),
        ("format_date(t, 'YYYY-MM-DD HH:mm:ss')", "2026-12-31 08:05:09"),
        ("format_date(t, 'Q: YYYY年MM月')", "Q: 2026年12月"),
        ("format_date(nothing, 'YYYY')", None),
        ("format_date(d, '')", ""),
        ("format_date(date_add_days(d, 25), 'YYYY-MM')", "2026-04"),
    ],
)
def test_format_date(text, expected):
    assert compile_expression(text).evaluate(NAMES) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("format_date(n, 'YYYY')", "expects a date, got number"),
        ("format_date(s, 'YYYY')", "got text"),
        ("format_date(d, n)", "expects a text pattern"),
    ],
)
def test_format_date_errors(text, fragment):
    with pytest.raises(ExpressionEvaluationError, match=fragment):
        compile_expression(text).evaluate(NAMES)


def test_format_date_takes_two_arguments():
    with pytest.raises(ExpressionSyntaxError, match="takes 2 arguments"):
        compile_expression("format_date(d)")
