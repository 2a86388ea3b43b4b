"""The grid and the plan overview as xlsx or csv: what is on screen, with the same filters
(the tables are indicators.tables)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from perfplan.xlsx import write_csv, write_xlsx

from ..forms import ExportForm
from ..tables import grid_table, overview_tables
from .overview import overview_data
from .screen import XLSX_TYPE, build_screen, download


def _printed(tables, plan):
    """The tables as printed: the plan's year at the top left of every page, and the unit
    line where a column holds amounts (백만원)."""
    for table in tables:
        if plan is not None:
            table.subtitle = _("%(year)s performance plan") % {"year": plan.fiscal_year}
        if any(column.kind == "amount" for column in table.columns):
            table.unit = _("(unit: million won)")
    return tables


def _export(request, tables, stem, fallback, plan=None):
    form = ExportForm(request.GET or {"format": "xlsx"})
    if not form.is_valid():
        raise Http404
    fmt = form.cleaned_data["format"]
    if fmt == "xlsx":
        return download(write_xlsx(_printed(tables, plan)), f"{stem}.xlsx", XLSX_TYPE)
    key = form.cleaned_data.get("table") or tables[0].key
    table = next((t for t in tables if t.key == key), tables[0])
    encoding = form.cleaned_data.get("encoding") or "utf-8"
    try:
        data = write_csv(table, encoding)
    except UnicodeEncodeError as exc:
        messages.error(
            request,
            _("A character cannot be written in %(encoding)s (%(error)s); export as UTF-8.")
            % {"encoding": encoding, "error": exc},
        )
        return redirect(fallback)
    suffix = f"_{table.sheet_name}" if len(tables) > 1 else ""
    return download(data, f"{stem}{suffix}.csv", f"text/csv; charset={encoding}")


def my_department_export_view(request):
    screen = build_screen(request, mine=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('My department')}_{year}"
    fallback = reverse("tracking:my_department") + "?" + screen.query_string()
    return _export(request, [grid_table(screen)], stem, fallback, screen.plan)


def overview_export_view(request):
    screen = build_screen(request, with_rows=False)
    data = overview_data(screen, request.user, all_at_risk=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('Plan overview')}_{year}"
    fallback = reverse("tracking:overview") + "?" + screen.query_string()
    return _export(request, overview_tables(screen, data), stem, fallback, screen.plan)
