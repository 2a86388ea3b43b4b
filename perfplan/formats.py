"""Spreadsheet output that cannot run as a formula when opened.

A cell whose text starts with =, +, -, @, a tab or a carriage return is prefixed with an
apostrophe (OWASP's CSV-injection advice); the importers strip that apostrophe again, so an
exported file re-imports unchanged. django-import-export's own setting only drops a leading
"=" (losing data), so its formats are replaced by these.
"""

from import_export.formats import base_formats

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_formula(value):
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


class _EscapingMixin:
    def _escape_formulae(self, dataset):
        rows = [[escape_formula(cell) for cell in row] for row in dataset]
        del dataset[:]
        for row in rows:
            dataset.append(row)


class CSV(_EscapingMixin, base_formats.CSV):
    pass


class XLSX(_EscapingMixin, base_formats.XLSX):
    pass
