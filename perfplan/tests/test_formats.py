import pytest
import tablib

from perfplan.formats import CSV, escape_formula, unescape_formula


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_escaped_and_restored(prefix):
    text = f"{prefix}SUM(A1:A2)"
    escaped = escape_formula(text)
    assert escaped == "'" + text
    assert unescape_formula(escaped) == text


def test_plain_text_and_numbers_untouched():
    assert escape_formula("공약사업 추진율") == "공약사업 추진율"
    assert escape_formula(-5) == -5
    assert unescape_formula("'quoted") == "'quoted"


def test_import_export_format_escapes_instead_of_dropping(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    dataset = tablib.Dataset(headers=["name"])
    dataset.append(['=HYPERLINK("http://x")'])
    dataset.append(["@cmd"])
    output = CSV().export_data(dataset)
    assert "'=HYPERLINK" in output
    assert "'@cmd" in output
