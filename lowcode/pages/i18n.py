"""Interface language: which one a request uses, and compiling the message catalogs.

The signed-in user's choice (``session["lang"]``, set at sign-in and by the language switcher) wins;
otherwise the best match of ``Accept-Language`` among :data:`LANGUAGES`; otherwise English.
"""

from __future__ import annotations

from pathlib import Path

from babel import support
from flask import has_request_context, request, session
from flask_babel import Babel, Domain, format_number, get_locale, gettext

from lowcode.core.texts import use_language, use_translator

LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
"""Supported interface languages: code -> its own name (shown in the switcher)."""
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def normalise_language(code: str | None) -> str | None:
    """A supported language code for ``code`` (``zh-CN``, ``zh_cn`` and ``zh`` give ``zh_CN``), or None."""
    if not code:
        return None
    wanted = code.replace("-", "_").lower()
    for lang in LANGUAGES:
        if lang.lower() == wanted or lang.lower().split("_")[0] == wanted:
            return lang
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector: session choice, then ``Accept-Language``, then English."""
    chosen = normalise_language(session.get("lang"))
    if chosen:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language code of the current request (``en`` or ``zh_CN``), for picking definition labels.

    (``str()`` of Babel's ``zh_CN`` locale is ``zh_Hans_CN``, so the code is rebuilt from its parts.)
    """
    locale = get_locale()
    if locale is None:
        return DEFAULT_LANGUAGE
    code = f"{locale.language}_{locale.territory}" if locale.territory else locale.language
    return normalise_language(code) or DEFAULT_LANGUAGE


class CatalogDomain(Domain):
    """Loads the catalog of :func:`current_language` (``translations/zh_CN/...``).

    Flask-Babel loads catalogs by ``str(locale)``, and Babel spells the ``zh_CN`` locale
    ``zh_Hans_CN``, which would never find the ``zh_CN`` folder.
    """

    def get_translations(self):
        """The merged catalogs of the request's language (cached per language)."""
        if not has_request_context():
            return support.NullTranslations()
        language = current_language()
        cache = self.get_translations_cache(None)
        key = (language, self.domain[0])
        if key not in cache:
            translations = support.Translations()
            for directory in self.translation_directories:
                catalog = support.Translations.load(directory, [language], self.domain[0])
                translations.merge(catalog)
                if hasattr(catalog, "plural"):
                    translations.plural = catalog.plural
            cache[key] = translations
        return cache[key]


def _request_gettext(template: str) -> str:
    """The catalogue's translation of a service sentence in the current request's language."""
    return gettext(template) if has_request_context() else template


def init_babel(app) -> Babel:
    """Flask-Babel on ``app`` with our locale selector and catalog loading; service sentences
    (:class:`lowcode.core.texts.Text`) are translated from the same catalogue."""
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogDomain()
    use_translator(_request_gettext)
    use_language(lambda: current_language() if has_request_context() else None)
    app.add_template_filter(format_number, "number")  # counts in the reader's locale: 10,000
    return babel


def compile_catalogs(directory: Path = TRANSLATIONS_DIR, force: bool = False) -> list[Path]:
    """Compile each ``<lang>/LC_MESSAGES/messages.po`` under ``directory`` to ``.mo`` (what
    ``pybabel compile -d lowcode/translations`` does); unless ``force``, only missing or stale ones.
    Returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written: list[Path] = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written
