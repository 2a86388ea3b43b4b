"""The grid and the plan overview as xlsx or csv: what is on screen, with the same filters
(the tables are indicators.tables). A large xlsx is made by the task worker
(perfplan.exports): the screen is built again there from the same query, as the user who
asked."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from perfplan import exports
from perfplan.xlsx import write_csv

from ..forms import ExportForm
from ..tables import grid_table, overview_tables
from .access import require_view
from .overview import overview_data
from .screen import build_screen, download


def _printed(tables, plan):
    """The tables as printed: the plan's year at the top left of every page, and the unit
    line where a column holds amounts (백만원)."""
    for table in tables:
        if plan is not None:
            table.subtitle = _("%(year)s performance plan") % {"year": plan.fiscal_year}
        if any(column.kind == "amount" for column in table.columns):
            table.unit = _("(unit: million won)")
    return tables


def _csv(request, form, tables, stem, fallback):
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


def _form(request):
    form = ExportForm(request.GET or {"format": "xlsx"})
    if not form.is_valid():
        raise Http404
    return form


# ---------------------------------------------------------------- what each export holds


def _my_department(request):
    screen = build_screen(request, mine=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('My department')}_{year}"
    return screen, [grid_table(screen)], stem


def _overview(request):
    screen = build_screen(request, with_rows=False)
    data = overview_data(screen, request.user, all_at_risk=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('Plan overview')}_{year}"
    return screen, overview_tables(screen, data), stem


def _may_view(user, params):
    try:
        require_view(user)
    except PermissionDenied:
        return False
    return True


def _screen_export(kind, label, tables_of, mine):
    """An Export of a tracking screen (perfplan.exports): its size is the indicators the
    screen filters to, its file the screen's tables as printed."""

    def size(user, params):
        request = exports.request_as(user, params["query"])
        return build_screen(request, mine=mine, with_rows=False).indicators.count()

    def make(user, params, progress):
        screen, tables, stem = tables_of(exports.request_as(user, params["query"]))
        return exports.xlsx_file(_printed(tables, screen.plan), f"{stem}.xlsx", progress)

    return exports.register(
        exports.Export(
            kind=kind,
            label=label,
            allowed=_may_view,
            size=size,
            make=make,
            path=f"{__name__}.{kind.upper()}_EXPORT",
        )
    )


MY_DEPARTMENT_EXPORT = _screen_export(
    "my_department", gettext_lazy("My department (xlsx)"), _my_department, mine=True
)
OVERVIEW_EXPORT = _screen_export(
    "overview", gettext_lazy("Plan overview (xlsx)"), _overview, mine=False
)


# ---------------------------------------------------------------- the views


def _export(request, export, tables_of, fallback_name):
    form = _form(request)
    if form.cleaned_data["format"] == "xlsx":  # a large one is made by the task worker
        return exports.respond(request, export, {"query": exports.query_of(request)})
    screen, tables, stem = tables_of(request)
    fallback = reverse(fallback_name) + "?" + screen.query_string()
    return _csv(request, form, tables, stem, fallback)


def my_department_export_view(request):
    return _export(request, MY_DEPARTMENT_EXPORT, _my_department, "tracking:my_department")


def overview_export_view(request):
    return _export(request, OVERVIEW_EXPORT, _overview, "tracking:overview")
