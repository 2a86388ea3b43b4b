"""The Korean people read, for tests: the ko catalogue in use (locale/ko/LC_MESSAGES) with the
Korean still waiting in locale/ko/pending/*.po merged in, so a test reads what the screens
will say once the lead merges it (there is no other list of Korean to keep in step)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

from perfplan.tests.test_translations import parse_po, po_catalog

PENDING_DIR = Path(settings.BASE_DIR) / "locale" / "ko" / "pending"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
HANGUL = re.compile(r"[가-힣]")
ENGLISH_WORD = re.compile(r"[a-z]{3,}")


def pending_catalog():
    """msgid (or "context\\x04msgid", or (msgid, n)) -> Korean, from the pending files."""
    catalog = {}
    for path in sorted(PENDING_DIR.glob("*.po")):
        catalog.update({key: text for key, text in po_catalog(parse_po(path)).items() if text})
    return catalog


@contextmanager
def korean_catalogue():
    """Korean active, from a fresh ko translation with the pending Korean merged in; the
    translation in use before is put back afterwards."""
    saved = trans_real._translations.get("ko")
    fresh = trans_real.DjangoTranslation("ko")
    for key, text in pending_catalog().items():
        fresh._catalog[key] = text
    trans_real._translations["ko"] = fresh
    try:
        with translation.override("ko"):
            yield fresh
    finally:
        if saved is None:
            trans_real._translations.pop("ko", None)
        else:
            trans_real._translations["ko"] = saved


def untranslated(msgids):
    """The msgids (inside korean_catalogue) that read the same in Korean or keep other
    placeholders: [(msgid, what it reads)]."""
    wrong = []
    for msgid in sorted(set(msgids)):
        text = translation.gettext(msgid)
        if HANGUL.search(msgid) or not ENGLISH_WORD.search(PLACEHOLDER.sub("", msgid)):
            continue  # Korean already (a header name), or codes only ("CSV (UTF-8)")
        if text == msgid or not HANGUL.search(text):
            wrong.append((msgid, text))
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(msgid)):
            wrong.append((msgid, text))
    return wrong
