"""Results import in the admin shell: upload → preview → confirm, and the blank template.

Through the import runner (perfplan.imports), as every import: the uploaded file is kept in
the database (ImportBatch + ImportFile, source "results") between preview and confirm, so
the confirmation may land on any app server; the confirm step re-reads the stored file as
the same user and writes only if the import would write exactly what the preview showed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from perfplan import imports, tasks
from perfplan.files import check_upload_size
from perfplan.models import Plan
from perfplan.scoping import restrict
from perfplan.xlsx import write_csv, write_xlsx

from ..models import Result
from ..results_import import (
    FILE_STEM,
    RESULTS,
    SOURCE,
    filled_table,
    template_table,
)
from .screen import XLSX_TYPE, download

PREVIEW_LIMIT = 1000
TEMPLATE = "indicators/results_import.html"


def can_import_results(user):
    return user.has_perm("indicators.add_result") or user.has_perm("indicators.change_result")


class ResultsImportForm(forms.Form):
    fiscal_year = forms.IntegerField(
        label=gettext_lazy("Fiscal year"),
        min_value=2000,
        max_value=2100,
        initial=lambda: timezone.localdate().year,
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "xlsx, ods or csv (UTF-8, UTF-16 or CP949): one row per indicator and period, with "
            "the columns 실국명, 성과지표명 (or 지표코드), 기간, 실적 and 비고."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload_size(upload.name, upload.size)
        return upload


def _context(request, **extra):
    return {
        **admin.site.each_context(request),
        "opts": Result._meta,
        "title": _("Import results"),
        **extra,
    }


def _preview_context(result):
    listed = [c for c in result.changes if c.action != "unchanged"]
    unchanged = [c for c in result.changes if c.action == "unchanged"]
    return {
        "result": result,
        "totals": result.totals(),
        "listed_changes": listed[:PREVIEW_LIMIT],
        "listed_more": max(0, len(listed) - PREVIEW_LIMIT),
        "unchanged": unchanged[:PREVIEW_LIMIT],
        "unchanged_more": max(0, len(unchanged) - PREVIEW_LIMIT),
        "read_warnings": result.warnings,
    }


def _render_preview(batch, result):
    """A background preview, rendered in the worker (perfplan.tasks) as the page shows it."""
    context = {**_preview_context(result), "batch": batch, "year": batch.fiscal_year}
    return tasks.preview_parts(TEMPLATE, context)


def _confirmed(batch, result):
    message = _(
        "Imported the %(year)s results: %(new)s new, %(changed)s changed, %(unchanged)s unchanged."
    ) % {"year": batch.fiscal_year, **result.totals()}
    return message, reverse("results:import")


# Named by path in the background tasks' arguments (perfplan.tasks).
RESULTS_SCREEN = tasks.ImportScreen(render_preview=_render_preview, confirmed=_confirmed)
RESULTS_SCREEN_PATH = f"{__name__}.RESULTS_SCREEN"


def _held_import_page(request):
    """A background import of the user's: its progress (?progress=, JSON) or its page."""
    if "progress" in request.GET:
        batch = tasks.own_batch(request.user, request.GET["progress"], (RESULTS,))
        return JsonResponse(tasks.progress_of(batch))
    batch = tasks.own_batch(request.user, request.GET.get("batch"), (RESULTS,))
    shown = tasks.held_page(request, batch, reverse("results:import"))
    if isinstance(shown, HttpResponse):
        return shown
    form = ResultsImportForm(initial={"fiscal_year": batch.fiscal_year})
    return TemplateResponse(request, TEMPLATE, _context(request, form=form, **shown))


def results_import_view(request):
    if not can_import_results(request.user):
        raise PermissionDenied
    if request.method != "POST" and ("batch" in request.GET or "progress" in request.GET):
        return _held_import_page(request)
    form = ResultsImportForm(request.POST or None, request.FILES or None)
    context = _context(request, form=form)
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["fiscal_year"]
        upload = form.cleaned_data["file"]
        files = [(upload.name, upload.read())]
        # Kept in the database (with its fingerprint) so the confirm works on any app server.
        # A large file is previewed by the task worker, the page follows its progress.
        result, held = tasks.start_preview(
            RESULTS, year, files, user=request.user, source=SOURCE, screen=RESULTS_SCREEN_PATH
        )
        if held is not None:
            return redirect(f"{reverse('results:import')}?batch={held.pk}")
        context.update(
            errors=result.errors, batch=result.batch, year=year, **_preview_context(result)
        )
    return TemplateResponse(request, TEMPLATE, context)


def results_import_confirm_view(request, batch_id):
    if not can_import_results(request.user):
        raise PermissionDenied
    # Only the user's own previews exist here, whatever the method: another id is a 404.
    batch = imports.previewed_batch(request.user, batch_id, (RESULTS,))
    if request.method != "POST":
        return redirect(reverse("results:import"))
    result = tasks.start_confirm(batch, user=request.user, screen=RESULTS_SCREEN_PATH)
    if result is None:  # large: confirmed by the task worker, the page follows its progress
        return redirect(f"{reverse('results:import')}?batch={batch.pk}")
    if not result.ok:
        # Nothing was written; this preview cannot be confirmed again (upload anew).
        context = _context(request, form=ResultsImportForm(), errors=result.errors)
        return TemplateResponse(request, TEMPLATE, context)
    message, url = _confirmed(batch, result)
    messages.success(request, message)
    return redirect(url)


def results_template_view(request):
    """The blank template (two example rows), or ?year=YYYY: the user's indicators filled in."""
    if not can_import_results(request.user):
        raise PermissionDenied
    fmt = request.GET.get("format", "xlsx")
    year = request.GET.get("year", "")
    if year.isdigit():
        plan = get_object_or_404(restrict(Plan.objects.all(), request.user), fiscal_year=year)
        table, stem = filled_table(plan, request.user), f"{FILE_STEM}_{plan.fiscal_year}"
    else:
        table, stem = template_table(), f"{FILE_STEM}_양식"
    if fmt == "csv":
        encoding = "cp949" if request.GET.get("encoding") == "cp949" else "utf-8"
        try:
            data = write_csv(table, encoding)
        except UnicodeEncodeError:
            encoding, data = "utf-8", write_csv(table, "utf-8")
        return download(data, f"{stem}.csv", f"text/csv; charset={encoding}")
    return download(write_xlsx([table]), f"{stem}.xlsx", XLSX_TYPE)
