"""Pages of the year's turn: making next year's plan (form → preview → confirm, as an
import) and comparing two plan years (with its xlsx export)."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from perfplan import imports
from perfplan.models import Plan
from perfplan.roles import may_view_plan_tables

from .compare import compare_plans, comparison_tables
from .services import (
    ROLLOVER,
    RULE_BASELINE,
    RULE_EMPTY,
    RULE_SAME,
    RollError,
    confirm_roll,
    may_roll,
    parse_target_rule,
    partial_note,
    preview_roll,
    request_of,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTED = 500  # changes listed on a preview page; the counts cover them all
SHOWN_ROWS = 500  # rows of each comparison table on the page; the xlsx lists every one


def _workbook(tables):
    """The one xlsx writer (perfplan.xlsx)."""
    from perfplan.xlsx import write_xlsx

    return write_xlsx(tables)


def _download(data, filename):
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- next year's plan


class RollForm(forms.Form):
    to_year = forms.IntegerField(label=gettext_lazy("new plan's fiscal year"), min_value=1900)
    targets = forms.ChoiceField(
        label=gettext_lazy("targets"),
        choices=(
            (RULE_EMPTY, gettext_lazy("leave the targets empty")),
            (RULE_SAME, gettext_lazy("same as this year")),
            (RULE_BASELINE, gettext_lazy("baseline + N % (in the indicator's direction)")),
        ),
        initial=RULE_EMPTY,
    )
    percent = forms.DecimalField(
        label=gettext_lazy("N (%)"), required=False, initial=5, max_digits=6, decimal_places=2
    )

    def clean(self):
        data = super().clean()
        rule = data.get("targets")
        if rule == RULE_BASELINE:
            percent = data.get("percent")
            if percent is None:
                self.add_error("percent", _("give N for the rule baseline + N %"))
                return data
            rule = f"baseline+{percent}%"
        try:
            data["rule"] = parse_target_rule(rule or RULE_EMPTY)
        except RollError as exc:
            self.add_error("targets", str(exc))
        return data


def _roll_context(request, admin_site, plan, **extra):
    return {
        **admin_site.each_context(request),
        "opts": Plan._meta,
        "title": _("Next year's plan from the %(year)s plan") % {"year": plan.fiscal_year},
        "source_plan": plan,
        **extra,
    }


def _preview_context(result):
    shown = result.shown_changes()
    counts = result.counts()
    return {
        "errors": result.errors,
        "batch": result.batch,
        "year": result.year,
        "result": result,
        "listed_changes": shown[:LISTED],
        "listed_more": max(0, len(shown) - LISTED),
        "unchanged": [],
        "totals": result.totals(),
        "count_rows": [
            (label, [counts[level][action] for action in ("new", "changed", "unchanged")])
            for level, label in _level_labels()
        ],
        "partial_note": partial_note(result) if result.partial_years else "",
    }


def _level_labels():
    from .services import LEVEL_LABELS, LEVELS

    return [(level, LEVEL_LABELS[level]) for level in LEVELS]


def roll_view(request, admin_site, plan_id):
    """The form, then the preview of the roll (stored for its confirmation)."""
    if not may_roll(request.user):
        raise PermissionDenied
    plan = get_object_or_404(Plan, pk=plan_id)
    form = RollForm(request.POST or None, initial={"to_year": plan.fiscal_year + 1})
    context = _roll_context(request, admin_site, plan, form=form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = preview_roll(plan, data["to_year"], data["rule"], request.user)
        context.update(_preview_context(result), rule=str(data["rule"]))
    return TemplateResponse(request, "rollover/roll.html", context)


def roll_confirm_view(request, admin_site, batch_id):
    if not may_roll(request.user):
        raise PermissionDenied
    batch = imports.previewed_batch(request.user, batch_id, (ROLLOVER,))
    roll = request_of(batch)
    source = Plan.objects.filter(fiscal_year=roll.from_year).first() if roll else None
    if request.method != "POST" or source is None:
        return redirect(reverse("admin:perfplan_plan_changelist"))
    result = confirm_roll(batch, request.user)
    if not result.ok:
        context = _roll_context(
            request, admin_site, source, form=RollForm(initial={"to_year": batch.fiscal_year})
        )
        context["errors"] = result.errors
        return TemplateResponse(request, "rollover/roll.html", context)
    totals = result.totals()
    messages.success(
        request,
        _(
            "The %(to)s plan was made from the %(from)s plan: %(new)s new, %(changed)s "
            "completed, %(unchanged)s unchanged."
        )
        % {"to": batch.fiscal_year, "from": source.fiscal_year, **totals},
    )
    return redirect(reverse("admin:perfplan_plan_change", args=[result.plan.pk]))


@admin.action(description=gettext_lazy("Make next year's plan from this one"))
def roll_forward_action(modeladmin, request, queryset):
    """The plan list's action: one plan at a time, to its roll page."""
    if not may_roll(request.user):
        raise PermissionDenied
    plans = list(queryset[:2])
    if len(plans) != 1:
        modeladmin.message_user(
            request, _("Select exactly one plan to roll forward."), messages.WARNING
        )
        return None
    return redirect(reverse("admin:perfplan_plan_roll", args=[plans[0].pk]))


def roll_urls(wrap):
    """The roll pages, under the plan admin's URLs (perfplan.admin adds them)."""
    from django.urls import path

    return [
        path(
            "<int:plan_id>/roll/",
            wrap(roll_view),
            name="perfplan_plan_roll",
        ),
        path(
            "roll/<uuid:batch_id>/confirm/",
            wrap(roll_confirm_view),
            name="perfplan_plan_roll_confirm",
        ),
    ]


# ---------------------------------------------------------------- two years side by side


def _plans_to_compare(request):
    plans = list(Plan.objects.order_by("-fiscal_year").only("pk", "fiscal_year", "title"))
    by_year = {p.fiscal_year: p for p in plans}

    def year(name, default):
        text = request.GET.get(name, "")
        if text:
            if not text.isdigit() or int(text) not in by_year:
                raise Http404
            return by_year[int(text)]
        return default

    newest = plans[0] if plans else None
    older = plans[1] if len(plans) > 1 else None
    old, new = year("from", older), year("to", newest)
    if old is not None and new is not None and old.fiscal_year > new.fiscal_year:
        old, new = new, old
    return plans, old, new


def compare_view(request):
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("perfplan.view_plan")):
        raise PermissionDenied
    plans, old, new = _plans_to_compare(request)
    comparison = None
    if old is not None and new is not None and old.pk != new.pk:
        if not (may_view_plan_tables(user, old) and may_view_plan_tables(user, new)):
            raise PermissionDenied
        comparison = compare_plans(old, new)
        if request.GET.get("format") == "xlsx":
            stem = _("plan comparison %(old)s-%(new)s") % {
                "old": old.fiscal_year,
                "new": new.fiscal_year,
            }
            return _download(_workbook(comparison_tables(comparison)), f"{stem}.xlsx")
    sections = []
    if comparison is not None:
        for key, title, rows in (
            ("goals", _("Strategic and policy goals"), comparison.goals),
            ("indicators", _("Indicators"), comparison.indicators),
            ("budgets", _("Budgets"), comparison.budgets),
        ):
            sections.append(
                {
                    "key": key,
                    "title": title,
                    "rows": rows[:SHOWN_ROWS],
                    "count": len(rows),
                    "more": max(0, len(rows) - SHOWN_ROWS),
                }
            )
    context = {
        **admin.site.each_context(request),
        "title": _("Plan years side by side"),
        "plans": plans,
        "old": old,
        "new": new,
        "sections": sections,
    }
    return TemplateResponse(request, "rollover/compare.html", context)
