"""Service sentences (``Text``): English as a plain string, translated at the edge; every template in the
code and every catalogue entry has a Chinese translation with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from babel.messages.pofile import read_po
from markupsafe import Markup

from lowcode.core import texts
from lowcode.core.texts import Text, localize

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "lowcode" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def _catalog() -> dict[str, str]:
    with CATALOG.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str)}


def _templates_in_code() -> dict[str, str]:
    """Every literal first argument of a ``Text(...)`` call under lowcode/ (template -> where)."""
    found = {}
    for path in (ROOT / "lowcode").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Text"
                    and node.args and isinstance(node.args[0], ast.Constant)):  # fmt: skip
                found[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_a_text_is_its_english_sentence_and_renders_translated_at_the_edge(monkeypatch):
    monkeypatch.setattr(texts, "_translate", [lambda t: {"{n} rows": "{n} 行", "none": "无"}.get(t, t)])
    text = Text("{n} rows", n=3)
    assert text == "3 rows" and isinstance(text, str) and text.template == "{n} rows"
    assert text.localized() == "3 行"
    assert localize({"a": [Text("none"), "plain"], "b": (Text("{n} rows", n=Text("none")),)}) == {
        "a": ["无", "plain"], "b": ["无 行"]}  # fmt: skip
    assert Markup.escape(Text("{n} rows", n="<b>")) == "&lt;b&gt; 行"  # Jinja: translated, then escaped


def test_a_broken_translation_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(texts, "_translate", [lambda t: "{missing} 行"])
    assert Text("{n} rows", n=3).localized() == "3 rows"


def test_every_text_template_in_the_code_is_translated_with_the_same_placeholders():
    catalog = _catalog()
    templates = _templates_in_code()
    assert len(templates) >= 25
    untranslated = sorted(f"{where}: {t}" for t, where in templates.items() if not catalog.get(t))
    assert untranslated == []
    mismatched = sorted(
        t for t in templates if catalog.get(t) and _placeholders(t) != _placeholders(catalog[t])
    )
    assert mismatched == []


def test_every_catalogue_entry_has_a_chinese_translation():
    missing = sorted(k for k, v in _catalog().items() if not (v or "").strip())
    assert missing == []
    python_format = [k for k in _catalog() if re.search(r"%\(\w+\)[sd]", k)]
    assert all(re.findall(r"%\(\w+\)[sd]", k) and sorted(re.findall(r"%\(\w+\)[sd]", _catalog()[k]))
               == sorted(re.findall(r"%\(\w+\)[sd]", k)) for k in python_format)  # fmt: skip
