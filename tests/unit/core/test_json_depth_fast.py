"""``json_depth`` (strings cut out by a regular expression) counts exactly as the character scan it replaced,
for well-formed and broken texts alike, and ``loads_exact`` still refuses every lone surrogate."""

from __future__ import annotations

import json
import random

import pytest

from lowcode.core.jsonutil import _scanned_depth, json_depth, loads_exact
from lowcode.errors import BadRequest

PIECES = ['"', "\\", "[", "]", "{", "}", "a", ",", ":", " ", "\n", '\\"', "\\\\", "汉"]


def test_depth_matches_the_scan_on_random_texts():
    rng = random.Random(14)
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 24)))
        assert json_depth(text) == _scanned_depth(text), text


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("[]", 1),
        ('[{"a": [1, "]]]"]}]', 3),
        ('{"a\\"[": {"b": "\\\\"}}', 2),
        ('["[[[[', 1),  # unterminated string: the scan's answer
        ("[" * 40 + "]" * 40, 40),
    ],
)
def test_depth_of_known_texts(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "\\udBff", "\\uDc00"])
def test_lone_surrogate_escapes_are_still_refused(escape):
    with pytest.raises(BadRequest):
        loads_exact('[{"a": "x' + escape + '"}]')


def test_escapes_that_are_not_surrogates_pass():
    assert loads_exact(json.dumps([{"a": "汉字 é \\u0041"}])) == [{"a": "汉字 é \\u0041"}]
    assert loads_exact('{"a": "\\ud83d\\ude00"}') == {"a": "😀"}  # a pair is one character
