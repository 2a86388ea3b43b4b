"""Plan pages inside the admin: the plan's tables, import with preview, export."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goals.models import PlanDepartment
from indicators.models import Indicator
from perfplan import exports, imports, tasks
from perfplan.models import Plan
from perfplan.roles import may_view_plan_tables
from perfplan.xlsx import write_csv, write_xlsx

from .exports import plan_tables, table_by_key, template_tables
from .forms import ExportForm, PlanImportForm
from .importer import ACTIONS, LEVEL_LABELS, LEVELS, PLAN_TABLES, PLAN_TEXT
from .sources import is_plan_text
from .summary import hierarchy, plan_as_json, reconcile_plan, reconcile_plan_data

PREVIEW_LIMIT = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def can_import(user):
    return user.has_perm("perfplan.add_plan") and user.has_perm("perfplan.change_plan")


def _download(data, filename, content_type):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name):
    from urllib.parse import quote

    return quote(name)


# The plan tables page shows whole departments a page at a time (table 가's 계 row and
# table 나's goals of those departments): at national size (250 departments, 10,000
# indicators) the whole plan is some 2 MB of HTML. The exports hold the whole plan.
TABLE_PAGE_DEPARTMENTS = 25
TABLE_PAGE_INDICATORS = 600


def department_pages(rows):
    """Table 가's department rows cut into pages of whole departments, up to
    TABLE_PAGE_DEPARTMENTS departments and TABLE_PAGE_INDICATORS indicators (a larger
    department has a page of its own)."""
    pages, page, indicators = [], [], 0
    for row in rows:
        count = row.computed.indicators or 0
        if page and (
            len(page) >= TABLE_PAGE_DEPARTMENTS or indicators + count > TABLE_PAGE_INDICATORS
        ):
            pages.append(page)
            page, indicators = [], 0
        page.append(row)
        indicators += count
    if page:
        pages.append(page)
    return pages


def _page_number(request, pages):
    try:
        wanted = int(request.GET.get("page") or 1)
    except ValueError:
        wanted = 1
    return min(max(wanted, 1), max(len(pages), 1))


def plan_tables_view(request, admin_site, plan_id):
    plan = get_object_or_404(Plan, pk=plan_id)
    if not may_view_plan_tables(request.user, plan):
        raise PermissionDenied
    reconciliation = reconcile_plan(plan)
    pages = department_pages(reconciliation.rows)
    number = _page_number(request, pages)
    whole = request.GET.get("page") == "all"  # the whole plan at once, to print it
    shown = reconciliation.rows if whole else (pages[number - 1] if pages else [])
    paged = len(pages) > 1 and not whole
    goal_rows = hierarchy(plan, [row.plan_department.pk for row in shown] if paged else None)
    context = {
        **admin_site.each_context(request),
        "title": _("%(plan)s: plan summary tables") % {"plan": plan},
        "plan": plan,
        "opts": Plan._meta,
        "reconciliation": reconciliation,
        "table_ga_rows": [reconciliation.total, *shown],
        "goal_rows": _table_na_rows(goal_rows),
        "can_import": can_import(request.user),
        "paging": {
            "number": number,
            "count": len(pages),
            "previous": number - 1 if number > 1 else None,
            "next": number + 1 if number < len(pages) else None,
            "first": shown[0].name if shown else "",
            "last": shown[-1].name if shown else "",
            "departments": len(reconciliation.rows),
        }
        if paged
        else None,
        "whole": whole and len(pages) > 1,
    }
    return TemplateResponse(request, "goals/plan_tables.html", context)


def _table_na_rows(goal_rows):
    """Flatten table 나 into printed rows with rowspans, as the source lays it out."""
    rows = []
    for goal_row in goal_rows:
        goal = goal_row.strategic_goal
        pgs = list(goal.policy_goals.all())
        lines = []
        for pg in pgs:
            inds = list(pg.indicators.all()) or [None]
            for index, ind in enumerate(inds):
                lines.append(
                    {"pg": pg if index == 0 else None, "pg_span": len(inds), "indicator": ind}
                )
        if not lines:
            lines = [{"pg": None, "pg_span": 1, "indicator": None, "empty": True}]
        for index, line in enumerate(lines):
            line["goal"] = goal_row if index == 0 else None
            line["goal_span"] = len(lines)
            rows.append(line)
    return rows


def plan_export_view(request, admin_site, plan_id):
    plan = get_object_or_404(Plan, pk=plan_id)
    if not may_view_plan_tables(request.user, plan):
        raise PermissionDenied
    form = ExportForm(request.GET or {"format": "xlsx"})
    if not form.is_valid():
        raise Http404
    fmt = form.cleaned_data["format"]
    stem = _export_stem(plan)
    if fmt == "json":
        data = json.dumps(plan_as_json(plan), ensure_ascii=False, indent=1).encode()
        return _download(data, f"{stem}.json", "application/json")
    if fmt == "xlsx":  # a large plan's workbook is made by the task worker
        return exports.respond(request, PLAN_TABLES_EXPORT, {"plan": plan.pk})
    tables = plan_tables(plan)
    key = form.cleaned_data["table"] or "hierarchy"
    encoding = form.cleaned_data["encoding"] or "utf-8"
    table = table_by_key(tables, key)
    try:
        data = write_csv(table, encoding)
    except UnicodeEncodeError as exc:
        messages.error(
            request,
            _("A character cannot be written in %(encoding)s (%(error)s); export as UTF-8.")
            % {"encoding": encoding, "error": exc},
        )
        return redirect(reverse("admin:perfplan_plan_tables", args=[plan.pk]))
    return _download(data, f"{stem}_{table.sheet_name}.csv", f"text/csv; charset={encoding}")


def _export_stem(plan):
    return f"성과계획_{plan.fiscal_year}"


def _plan_of(params):
    return Plan.objects.filter(pk=params.get("plan")).first()


def _may_export(user, params):
    plan = _plan_of(params)
    return plan is not None and may_view_plan_tables(user, plan)


def _export_rows(user, params):
    """Table 나's rows (one per indicator) and table 가's (one per department)."""
    plan = _plan_of(params)
    return (
        Indicator.objects.in_plan(plan).count() + PlanDepartment.objects.filter(plan=plan).count()
    )


def _make_plan_tables(user, params, progress):
    plan = Plan.objects.get(pk=params["plan"])
    return exports.xlsx_file(plan_tables(plan), f"{_export_stem(plan)}.xlsx", progress)


# The plan tables' workbook: in the request when small, else by the worker (perfplan.exports).
PLAN_TABLES_EXPORT = exports.register(
    exports.Export(
        kind="plan_tables",
        label=gettext_lazy("Plan summary tables (xlsx)"),
        allowed=_may_export,
        size=_export_rows,
        make=_make_plan_tables,
        path=f"{__name__}.PLAN_TABLES_EXPORT",
    )
)


def import_template_view(request, admin_site):
    if not can_import(request.user):
        raise PermissionDenied
    fmt = request.GET.get("format", "xlsx")
    tables = template_tables()
    if fmt == "csv":
        table = table_by_key(tables, request.GET.get("table", "hierarchy"))
        return _download(
            write_csv(table), f"성과계획_양식_{table.sheet_name}.csv", "text/csv; charset=utf-8"
        )
    return _download(write_xlsx(tables), "성과계획_양식.xlsx", XLSX_TYPE)


def _preview_context(result):
    counts = result.counts()
    listed = [c for c in result.changes if c.action != "unchanged"]
    unchanged = [c for c in result.changes if c.action == "unchanged"]
    data = result.data
    return {
        "result": result,
        "count_rows": [
            (LEVEL_LABELS[lv], [counts[lv][a] for a in ACTIONS])
            for lv in LEVELS
            if any(counts[lv].values())
        ],
        "totals": result.totals(),
        "listed_changes": listed[:PREVIEW_LIMIT],
        "listed_more": max(0, len(listed) - PREVIEW_LIMIT),
        "unchanged": unchanged[:PREVIEW_LIMIT],
        "unchanged_more": max(0, len(unchanged) - PREVIEW_LIMIT),
        "file_reconciliation": reconcile_plan_data(data, result.kept_counts)
        if data is not None and data.has_summary
        else None,
        "source_kind": result.source_kind,
        "read_warnings": _read_warnings(result, counts),
    }


def _read_warnings(result, counts):
    """What the reader saw but the changes do not show (hidden rows and columns…), and a
    new plan without table 나: it would have no goals, a slip to catch before confirming."""
    data = result.data
    warnings = list(getattr(data, "warnings", []))
    if data is not None and not data.has_hierarchy and counts["plan"]["new"]:
        warnings.append(
            _(
                "the files hold no table 나 (strategic goals, policy program goals and "
                "indicators): the new plan would have no goals"
            )
        )
    return warnings


def _import_context(request, admin_site, **extra):
    return {
        **admin_site.each_context(request),
        "opts": Plan._meta,
        "title": _("Import plan tables"),
        **extra,
    }


def _plan_kind(files):
    """The text of a published plan, or plan tables (perfplan.planfiles.importer's import kinds)."""
    return PLAN_TEXT if any(is_plan_text(name, content) for name, content in files) else PLAN_TABLES


PLAN_KINDS = (PLAN_TABLES, PLAN_TEXT)
PLAN_IMPORT_PAGE = "goals/plan_import.html"


def _render_preview(batch, result):
    """A background preview, rendered in the worker (perfplan.tasks) as the page shows it."""
    context = {
        **_preview_context(result),
        "batch": batch,
        "year": batch.fiscal_year,
        "reason": batch.summary.get("reason") or "",
    }
    return tasks.preview_parts(PLAN_IMPORT_PAGE, context)


def _imported_message(batch, result):
    return _(
        "Imported the %(year)s plan: %(new)s new, %(changed)s changed, %(deleted)s deleted, "
        "%(unchanged)s unchanged."
    ) % {"year": batch.fiscal_year, **result.totals()}


def _confirmed(batch, result):
    return (
        _imported_message(batch, result),
        reverse("admin:perfplan_plan_tables", args=[result.plan.pk]),
    )


# Named by path in the background tasks' arguments (perfplan.tasks).
PLAN_SCREEN = tasks.ImportScreen(render_preview=_render_preview, confirmed=_confirmed)
PLAN_SCREEN_PATH = f"{__name__}.PLAN_SCREEN"


def _held_import_page(request, admin_site, batch_id):
    """A background import of the user's: its progress (?progress=, JSON) or its page."""
    if "progress" in request.GET:
        batch = tasks.own_batch(request.user, request.GET["progress"], PLAN_KINDS)
        return JsonResponse(tasks.progress_of(batch))
    batch = tasks.own_batch(request.user, batch_id, PLAN_KINDS)
    shown = tasks.held_page(request, batch, reverse("admin:perfplan_plan_import"))
    if isinstance(shown, HttpResponse):
        return shown
    form = PlanImportForm(
        initial={"fiscal_year": batch.fiscal_year, "reason": batch.summary.get("reason")}
    )
    context = _import_context(request, admin_site, form=form, **shown)
    return TemplateResponse(request, PLAN_IMPORT_PAGE, context)


def plan_import_view(request, admin_site):
    if not can_import(request.user):
        raise PermissionDenied
    if request.method != "POST" and ("batch" in request.GET or "progress" in request.GET):
        return _held_import_page(request, admin_site, request.GET.get("batch"))
    context = _import_context(request, admin_site)
    year = request.GET.get("year", "")
    initial = {"fiscal_year": int(year)} if year.isdigit() else {}
    form = PlanImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["fiscal_year"]
        files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
        # Stored with the upload: the confirmation applies with this reason. A large
        # upload is previewed by the task worker, the page follows its progress.
        result, held = tasks.start_preview(
            _plan_kind(files),
            year,
            files,
            user=request.user,
            reason=form.cleaned_data["reason"],
            source="admin",
            screen=PLAN_SCREEN_PATH,
        )
        if held is not None:
            return redirect(f"{reverse('admin:perfplan_plan_import')}?batch={held.pk}")
        context.update(form=form, errors=result.errors, batch=result.batch, year=year)
        if result.data is not None:
            context.update(_preview_context(result))
        context["reason"] = (result.batch.summary["reason"] if result.batch else "") or ""
        return TemplateResponse(request, "goals/plan_import.html", context)
    context["form"] = form
    return TemplateResponse(request, "goals/plan_import.html", context)


def plan_import_confirm_view(request, admin_site, batch_id):
    if not can_import(request.user):
        raise PermissionDenied
    # Only the user's own previews exist here, whatever the method: another id is a 404.
    batch = imports.previewed_batch(request.user, batch_id, PLAN_KINDS)
    if request.method != "POST":
        return redirect(reverse("admin:perfplan_plan_import"))
    result = tasks.start_confirm(batch, user=request.user, screen=PLAN_SCREEN_PATH)
    if result is None:  # large: confirmed by the task worker, the page follows its progress
        return redirect(f"{reverse('admin:perfplan_plan_import')}?batch={batch.pk}")
    if not result.ok:
        # Nothing was written; this preview cannot be confirmed again (upload anew).
        context = _import_context(
            request,
            admin_site,
            form=PlanImportForm(
                initial={"fiscal_year": batch.fiscal_year, "reason": batch.summary.get("reason")}
            ),
            errors=result.errors,
        )
        return TemplateResponse(request, "goals/plan_import.html", context)
    message, url = _confirmed(batch, result)
    messages.success(request, message)
    return redirect(url)
