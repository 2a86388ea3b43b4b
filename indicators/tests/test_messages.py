"""Every msgid of the tracking and results-import code has its Korean in messages_ko.txt."""

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PAIRS = ROOT / "indicators" / "messages_ko.txt"
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


def pairs():
    result = {}
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            english, korean = line.split("\t")
            result[english] = korean
    return result


def test_every_msgid_has_its_korean():
    given = pairs()
    missing = sorted({m for m in msgids() if m not in given})
    assert not missing, missing
    assert len(msgids()) > 60


def test_the_korean_keeps_the_placeholders():
    for english, korean in pairs().items():
        assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(korean)), english
        assert re.search(r"[가-힣]", korean) or korean == english or "CSV" in korean, english


def test_status_labels_are_the_glossary_words():
    given = pairs()
    assert [given[s] for s in ("achieved", "caution", "behind", "missing", "no data")] == [
        "달성",
        "주의",
        "부진",
        "미입력",
        "자료없음",
    ]
