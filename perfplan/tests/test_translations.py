"""The Korean catalogue: complete, compiled, and actually used (with English left alone).

locale/ko/LC_MESSAGES/django.po holds our msgids plus django-filter's and
django-import-export's, merged in from locale/ko/third_party_ko.po after every makemessages
(see that file's header). Parsed here with a small reader: no polib dependency.
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "ko"
PO_PATH = LOCALE_DIR / "LC_MESSAGES" / "django.po"
MO_PATH = LOCALE_DIR / "LC_MESSAGES" / "django.mo"
THIRD_PARTY_PO = LOCALE_DIR / "third_party_ko.po"
PLAN_TEXT_SOURCE = Path(settings.BASE_DIR) / "perfplan" / "planfiles" / "plan_text.py"

# %(name)s, %s, %d, %.2f ...; "%%" is a literal percent sign, not a placeholder.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGcoua]")
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self):
        return (self.msgctxt, self.msgid)


def parse_po(path):
    """The entries of a .po file, header included (msgid "")."""
    entries, current, target = [], None, None

    def finish():
        if current is not None and target is not None:
            entries.append(current)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # previous msgid of an obsolete entry
                continue
        if not line:
            finish()
            current, target = None, None
            continue
        if current is None:
            current, target = Entry(line=number), None
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        current.obsolete = current.obsolete or obsolete
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if match:
            keyword, index, text = match.groups()
            if keyword == "msgstr" and current.msgid_plural is not None and index is None:
                raise AssertionError(f"{path}:{number}: plural entry without msgstr[n]")
            index = int(index or 0)
            target = (keyword, index)
            so_far = ""
        elif line.startswith('"') and target is not None:
            text = line
            keyword, index = target
            so_far = current.msgstr[index] if keyword == "msgstr" else getattr(current, keyword)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
        value = so_far + ast.literal_eval(text)
        if keyword == "msgstr":
            current.msgstr[index] = value
        else:
            setattr(current, keyword, value)
    finish()
    return entries


def active(entries):
    return [e for e in entries if not e.obsolete]


def messages(entries):
    return [e for e in active(entries) if e.msgid != ""]


def header(entries):
    heads = [e for e in active(entries) if e.msgid == "" and e.msgctxt is None]
    assert len(heads) == 1, "the .po must have exactly one header entry"
    return heads[0]


def nplurals(entries):
    match = re.search(r"nplurals\s*=\s*(\d+)", header(entries).msgstr.get(0, ""))
    assert match, "the header has no Plural-Forms"
    return int(match.group(1))


def tr(message):
    """gettext under another name: makemessages must not collect this file's msgids."""
    return translation.gettext(message)


def ntr(singular, plural, number):
    return translation.ngettext(singular, plural, number)


def placeholders(text):
    return (
        Counter(m.group(0) for m in PERCENT_PLACEHOLDER.finditer(text.replace("%%", ""))),
        len(BRACE_PLACEHOLDER.findall(text)),
    )


@pytest.fixture(scope="module")
def po_entries():
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l ko"
    return parse_po(PO_PATH)


# (a) complete ---------------------------------------------------------------------------


def test_header_is_korean_and_not_fuzzy(po_entries):
    head = header(po_entries)
    assert "fuzzy" not in head.flags
    assert "Language: ko\n" in head.msgstr[0]
    assert "charset=UTF-8" in head.msgstr[0]
    assert nplurals(po_entries) == 1


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries):
    count = nplurals(po_entries)
    entries = messages(po_entries)
    assert len(entries) > 200, "the catalogue looks truncated"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    empty = [e.msgid for e in entries if not e.msgstr or not all(e.msgstr.values())]
    assert not empty, f"untranslated entries: {empty}"
    wrong_forms = [
        e.msgid
        for e in entries
        if e.msgid_plural is not None and sorted(e.msgstr) != list(range(count))
    ]
    assert not wrong_forms, f"plural entries need exactly {count} msgstr[n]: {wrong_forms}"


def test_no_duplicate_msgids(po_entries):
    counts = Counter(e.key for e in messages(po_entries))
    assert [key for key, n in counts.items() if n > 1] == []


def test_translations_keep_the_placeholders(po_entries):
    broken = []
    for e in messages(po_entries):
        sources = [e.msgid] + ([e.msgid_plural] if e.msgid_plural is not None else [])
        expected = placeholders(e.msgid)
        for text in e.msgstr.values():
            got = placeholders(text)
            # A singular-only placeholder set may legitimately differ from the plural's
            # (e.g. "one item" vs "%(n)s items"); accept either source's set.
            if got not in [placeholders(s) for s in sources]:
                broken.append((e.msgid, text, expected, got))
    assert not broken, broken


def test_third_party_translations_are_merged(po_entries):
    """After makemessages, msgcat must bring django-filter's and import-export's msgids back."""
    ours = {e.key: e for e in messages(po_entries)}
    third_party = messages(parse_po(THIRD_PARTY_PO))
    assert len(third_party) >= 70
    missing = [e.msgid for e in third_party if e.key not in ours]
    assert not missing, f"run the msgcat merge step; missing: {missing}"
    untranslated = [e.msgid for e in third_party if not all(e.msgstr.values())]
    assert not untranslated


def test_plan_text_messages_read_in_korean():
    """The reader of a published plan's text explains itself in Korean (the one catalogue)."""
    from perfplan.tests.korean import korean_catalogue, untranslated

    found = []
    for node in ast.walk(ast.parse(PLAN_TEXT_SOURCE.read_text(encoding="utf-8"))):
        name = getattr(getattr(node, "func", None), "id", None)
        if isinstance(node, ast.Call) and name in {"_", "gettext", "gettext_lazy"} and node.args:
            if isinstance(node.args[0], ast.Constant):
                found.append(node.args[0].value)
    assert len(found) >= 5
    with korean_catalogue():
        assert not untranslated(found)


# (b) compiled -----------------------------------------------------------------------------


def po_catalog(entries):
    """What msgfmt puts in the .mo: msgid (or (msgid, n) for plurals) -> msgstr."""
    catalog = {}
    for e in active(entries):
        if "fuzzy" in e.flags and e.msgid != "":
            continue
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            catalog[msgid] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                catalog[(msgid, index)] = text
    return catalog


def without_pot_date(header_text):
    return [line for line in header_text.splitlines() if not line.startswith("POT-Creation-Date:")]


def test_compiled_mo_matches_the_po(po_entries):
    assert MO_PATH.exists(), "run compilemessages -l ko"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected = po_catalog(po_entries)
    # GNUTranslations keeps every message in _catalog: the only way to see what is *in* the .mo.
    actual = dict(compiled._catalog)
    # msgfmt leaves POT-Creation-Date out of the compiled header.
    assert without_pot_date(actual.pop("")) == without_pot_date(expected.pop(""))
    missing = sorted(str(k) for k in expected.keys() - actual.keys())
    stale = sorted(str(k) for k in actual.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    assert not (missing or stale or changed), (
        f"django.mo is out of date, run compilemessages -l ko: missing {missing[:5]}, "
        f"stale {stale[:5]}, changed {changed[:5]}"
    )


# (c) Korean is used, (d) English is left alone --------------------------------------------


def test_key_strings_in_korean():
    with translation.override("ko"):
        assert tr("performance plan") == "성과계획서"
        assert tr("row %(row)s") % {"row": 4} == "4행"
        assert tr("column %(column)s") % {"column": "예산액"} == "'예산액' 열"
        assert tr("sheet %(sheet)s") % {"sheet": "총괄"} == "'총괄' 시트"
        assert tr("나. Plan and budget share") == "나. 성과계획 및 재원비중"
        assert tr("Summary by department") == "총괄"
        assert (
            ntr("%(counter)s unchanged entry", "%(counter)s unchanged entries", 3) % {"counter": 3}
            == "변경 없는 항목 3건"
        )


def test_our_code_reads_korean():
    from perfplan.models import Plan
    from perfplan.tabular import RowError

    error = RowError("plan.xlsx", 4, "예산액", None, "x", sheet="총괄")
    with translation.override("ko"):
        assert error.location() == "plan.xlsx, '총괄' 시트, 4행, '예산액' 열"
        assert str(Plan._meta.verbose_name) == "성과계획서"
        assert str(Plan(fiscal_year=2025)) == "2025년도 성과계획서"


def test_django_filter_in_korean():
    import django_filters
    from django_filters.conf import settings as filter_settings

    with translation.override("ko"):
        assert tr("Select a lookup.") == "조회 조건을 선택하십시오."
        assert str(filter_settings.VERBOSE_LOOKUPS["gte"]) == "이상"
        ordering = django_filters.OrderingFilter(fields={"fiscal_year": "fiscal_year"})
        labels = [str(label) for _value, label in ordering.field.choices]
        assert any(label.endswith("(내림차순)") for label in labels), labels


def test_import_export_in_korean():
    from import_export.forms import ImportForm

    with translation.override("ko"):
        # empty in import-export's own Korean catalogue
        assert tr("Value could not be parsed.") == "값을 해석할 수 없습니다."
        # fuzzy (so unused) there
        assert tr("This exporter will export the following fields: ") == "다음 필드를 내보냅니다: "
        assert str(ImportForm.base_fields["import_file"].label) == "가져올 파일"


def test_django_own_korean_still_works():
    with translation.override("ko"):
        assert tr("Log out") == "로그아웃"


def test_english_stays_english():
    from perfplan.tabular import RowError

    with translation.override("en"):
        assert tr("performance plan") == "performance plan"
        assert tr("row %(row)s") % {"row": 4} == "row 4"
        assert tr("나. Plan and budget share") == "나. Plan and budget share"
        assert tr("Select a lookup.") == "Select a lookup."
        assert tr("Value could not be parsed.") == "Value could not be parsed."
        error = RowError("plan.xlsx", 4, "budget", None, "x", sheet="summary")
        assert error.location() == "plan.xlsx, sheet summary, row 4, column budget"
