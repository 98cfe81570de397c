"""Both languages ship: every message has a Chinese translation and the compiled catalogue is
current (a ``.po`` edited without ``make messages`` fails here)."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.utils import translation

from aftersales.cases.choices import CaseState

LOCALE = Path(__file__).resolve().parent.parent / "aftersales" / "locale"


def po_entries(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    entries = {}
    for msgid, msgstr in re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', text):
        key = "".join(re.findall(r'"(.*)"', msgid))
        if key:
            entries[key] = "".join(re.findall(r'"(.*)"', msgstr))
    return entries


def test_every_message_has_a_chinese_translation():
    path = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
    entries = po_entries(path)
    assert len(entries) > 100
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    # a fuzzy entry is gettext's guess from a similar old string, and is not used at all
    assert "fuzzy" not in path.read_text(encoding="utf-8")


def test_the_compiled_catalogue_matches_the_sources():
    entries = po_entries(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
    with open(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in entries.items():
        source = msgid.encode().decode("unicode_escape").encode("latin-1").decode()
        assert compiled.gettext(source) != source or msgstr == msgid, msgid


def test_state_labels_use_the_platform_words():
    with translation.override("zh-hans"):
        assert str(CaseState.AWAITING_SELLER.label) == "买家已申请，待商家处理"
        assert str(CaseState.REFUNDED.label) == "退款成功"
    with translation.override("en"):
        assert str(CaseState.AWAITING_SELLER.label) == "Awaiting seller"
