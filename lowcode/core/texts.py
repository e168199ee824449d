"""User-facing sentences raised by services, translated at the edge.

A service raises ``ValidationFailed(Text("{entity} {id} is '{state}': {fields} cannot be changed in this
state", entity=..., ...))``. A :class:`Text` is a ``str`` (its English rendering, so logs, tests and code that
compare strings keep working) that also remembers its template and parameters. The edge renders it again in
the reader's language: pages through Jinja (``__html__``), the API through :func:`localize`. The translation
function is the pages layer's (Flask-Babel's catalogue, ``lowcode/translations``), registered once at start-up
with :func:`use_translator` - this module knows nothing of Flask.

Templates are ``str.format`` templates whose placeholders are named; a catalogue entry translates the
template itself (``msgid "{entity} {id} is ..."``), so the parameters stay out of the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import escape

Translator = Callable[[str], str]


def _identity(template: str) -> str:
    return template


_translate: list[Translator] = [_identity]
_language: list[Callable[[], str | None]] = [lambda: None]


def use_language(current: Callable[[], str | None]) -> None:
    """Set how the reader's language is known (the current request's; None outside requests)."""
    _language[0] = current


def use_translator(translate: Translator) -> None:
    """Set how templates are translated (the current request's catalogue; identity outside requests)."""
    _translate[0] = translate


class Text(str):
    """A sentence for people: English as a ``str``, rendered in the reader's language by :meth:`localized`."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Text:
        obj = super().__new__(cls, template.format(**params) if params else template)
        obj.template = template
        obj.params = params
        return obj

    def localized(self) -> str:
        """The sentence in the current reader's language (parameters that are Texts too)."""
        translated = _translate[0](self.template)
        if not self.params:
            return translated
        params = {k: v.localized() if isinstance(v, Text) else v for k, v in self.params.items()}
        try:
            return translated.format(**params)
        except (KeyError, IndexError, ValueError):  # a broken translation must not hide the message
            return str(self)

    def __html__(self) -> str:
        return str(escape(self.localized()))

    def __reduce__(self):
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Text:
    return Text(template, **params)


class Versions(Text):
    """A sentence already written in several languages (a rule's ``{en, zh-CN}`` message, rendered once per
    language): the reader's version at the edge; as a ``str``, the ``default`` version."""

    versions: dict[str, str]

    def __new__(cls, versions: dict[str, str], default: str) -> Versions:
        obj = str.__new__(cls, versions.get(default) or next(iter(versions.values()), ""))
        obj.template = str(obj)
        obj.params = {}
        obj.versions = versions
        return obj

    def localized(self) -> str:
        """The version in the current reader's language, else this one."""
        language = _language[0]()
        if not language:
            return str(self)
        lang = language.replace("_", "-")
        return self.versions.get(lang) or self.versions.get(lang.split("-")[0]) or str(self)

    def __reduce__(self):
        return (Versions, (self.versions, next(k for k, v in self.versions.items() if v == str(self))))


def localize(value: Any) -> Any:
    """``value`` with every :class:`Text` in it (in dicts, lists and tuples) rendered for the reader."""
    if isinstance(value, Text):
        return value.localized()
    if isinstance(value, dict):
        return {k: localize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localize(v) for v in value]
    return value
