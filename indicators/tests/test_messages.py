"""Every msgid of the tracking and results-import code reads in Korean (the one catalogue)."""

import ast
import re
from pathlib import Path

from django.conf import settings

from indicators.tracking.rules import STATUS_LABELS, STATUSES
from perfplan.tests.korean import korean_catalogue, untranslated

ROOT = Path(settings.BASE_DIR)
SOURCES = (
    "indicators/periods.py",
    "indicators/tracking/rules.py",
    "indicators/tracking/rows.py",
    "indicators/tracking/summaries.py",
    "indicators/results_import/__init__.py",
    "indicators/results_import/read.py",
    "indicators/results_import/changes.py",
    "indicators/results_import/diff.py",
    "indicators/results_import/apply.py",
    "indicators/results_import/log.py",
    "indicators/results_import/templates.py",
    "indicators/views/results_import.py",
    "indicators/management/commands/import_results.py",
)
TEMPLATE = "templates/indicators/results_import.html"
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def msgids():
    found = []
    for source in SOURCES:
        for node in ast.walk(ast.parse((ROOT / source).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in GETTEXT_NAMES:
                for arg in node.args[:2] if name.startswith("n") else node.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append(arg.value)
    template = (ROOT / TEMPLATE).read_text(encoding="utf-8")
    found += re.findall(r'{% translate "([^"]*)"', template)
    found += re.findall(r"{% translate '([^']*)'", template)
    for block in re.findall(
        r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", template, re.S
    ):
        for text in block.split("{% plural %}"):
            found.append(re.sub(r"{{ *(\w+) *}}", r"%(\1)s", text))
    return found


def test_every_msgid_reads_in_korean():
    """The catalogue (with the Korean pending a merge) has every message of the tracking
    and results-import code, with the same placeholders."""
    found = msgids()
    assert len(found) > 60
    with korean_catalogue():
        assert not untranslated(found)


def test_status_labels_are_the_glossary_words():
    with korean_catalogue():
        shown = [str(STATUS_LABELS[s]) for s in STATUSES]
    assert shown == ["달성", "주의", "미흡", "미입력", "자료 없음"]
