"""How a playbook's and a step's words read in a language: a starter playbook's are msgids
(translated), a shop's own are the words it wrote per language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext

LANGUAGES = ("zh-hans", "en")


def language_code(language: str | None = None) -> str:
    """One of ``LANGUAGES`` for a Django language code (``zh-hans`` for any Chinese)."""
    language = language or translation.get_language() or "en"
    return "zh-hans" if language.lower().startswith("zh") else "en"


def word(item, field: str, *, starter: bool, language: str | None = None) -> str:
    """``item``'s ``field`` (``title`` or ``detail``) in ``language`` (default: the active one):
    translated for a starter playbook, else as the shop wrote it in that language, else in the
    language it was written in."""
    language = language_code(language)
    stored = getattr(item, field)
    if starter:
        if not stored:
            return ""
        with translation.override(language):
            return gettext(stored)
    return ((item.words or {}).get(language) or {}).get(field) or stored


def words_by_language(item, field: str, *, starter: bool) -> dict[str, str]:
    """``field`` in every language (empty languages left out)."""
    found = {lang: word(item, field, starter=starter, language=lang) for lang in LANGUAGES}
    return {lang: text for lang, text in found.items() if text}


def source_words(sources: list[str], *, starter: bool) -> list[str]:
    return [gettext(source) if starter else source for source in sources]
