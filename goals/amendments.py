"""Plan amendments: after publication, a target or budget changes only with a reason.

Once a plan is published (Plan.published_at), changing an indicator's annual target or a
strategic goal's or unit program's budget is an amendment: it needs a reason, the value as
published is kept (original_annual_target / original_budget, set by the first amendment and
never overwritten), and the change-log entry carries the reason. Tracking views and exports
show both with targets_side_by_side() / side_by_side().

Before publication these values change freely (and the originals stay empty).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from perfplan.changelog import change_context
from perfplan.locking import (
    ConcurrentEditError,
    extra_form_fields_get_form,
    lock_row,
    save_versioned,
)
from perfplan.models import Plan
from perfplan.numbers import NumberFormatError, format_amount, parse_number
from perfplan.scoping import can

# model label -> {amendable field: where its published value is kept}
AMENDABLE = {
    "indicators.indicator": {"annual_target": "original_annual_target"},
    "goals.strategicgoal": {"budget": "original_budget"},
    "budgets.unitprogram": {"budget": "original_budget"},
}
# model label -> the path from the object to its plan
PLAN_PATHS = {
    "indicators.indicator": "policy_goal.strategic_goal.plan_department.plan",
    "goals.strategicgoal": "plan_department.plan",
    "budgets.unitprogram": "policy_goal.strategic_goal.plan_department.plan",
}
REASON_FIELD = "amendment_reason"


class AmendmentError(Exception):
    """A refused amendment or publication; the message says what and why."""

    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


def original_field(obj_or_model, field):
    """Where the published value of `field` is kept; ValueError for a field not amendable."""
    label = obj_or_model._meta.label_lower
    try:
        return AMENDABLE[label][field]
    except KeyError:
        raise ValueError(f"{label}.{field} is not an amendable field") from None


def amendable_field(obj_or_model):
    """The one amendable field of a model (annual_target or budget)."""
    return next(iter(AMENDABLE[obj_or_model._meta.label_lower]))


def plan_of(obj):
    value = obj
    for part in PLAN_PATHS[obj._meta.label_lower].split("."):
        value = getattr(value, part)
    return value


def is_published(plan):
    return plan is not None and plan.published_at is not None


def requires_reason(obj, field) -> bool:
    """Whether changing `field` of `obj` is an amendment, which needs a reason."""
    original_field(obj, field)
    return is_published(plan_of(obj))


def _clean_value(obj, field, value):
    model_field = type(obj)._meta.get_field(field)
    if isinstance(value, str):
        try:
            value = parse_number(value)
        except NumberFormatError as exc:
            raise AmendmentError(f"{model_field.verbose_name}: {exc}") from exc
    if value is None:
        if not model_field.null:
            raise AmendmentError(
                _("%(field)s cannot be empty.") % {"field": model_field.verbose_name}
            )
        return None
    try:
        return model_field.clean(Decimal(value), obj)
    except (ValidationError, ArithmeticError, TypeError, ValueError) as exc:
        problem = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise AmendmentError(f"{model_field.verbose_name}: {problem}") from exc


def _missing_reason(obj, field):
    verbose = type(obj)._meta.get_field(field).verbose_name
    return _(
        "%(object)s: the plan is published, so changing the %(field)s is an amendment and "
        "needs a reason."
    ) % {"object": obj, "field": verbose}


def prepare_amendment(obj, field, old_value, reason):
    """For a save of `obj` whose `field` changes from `old_value` (already set on `obj`).

    Refuses a missing reason once the plan is published (AmendmentError) and keeps the
    published value in the original field on the first amendment. Returns the fields to
    save besides `field` ([] or [the original field]). The caller saves inside
    change_context(reason=reason).
    """
    new_value = getattr(obj, field)
    if old_value == new_value or not requires_reason(obj, field):
        return []
    if not (reason or "").strip():
        raise AmendmentError(_missing_reason(obj, field))
    keep = original_field(obj, field)
    if getattr(obj, keep) is None:
        setattr(obj, keep, old_value)
        return [keep]
    return []


def amend(user, obj, field, new_value, reason="", *, expected_version=None):
    """Change `field` (annual_target or budget) of `obj` to `new_value`; returns the object.

    After publication a change needs a reason (AmendmentError otherwise); the first
    amendment keeps the published value; the change-log entry carries the reason. With
    `expected_version`, a newer row raises ConcurrentEditError. No change: nothing written.
    """
    keep = original_field(obj, field)
    if not can(user, "change", obj):
        raise AmendmentError(
            _("%(object)s: you may not change it (another department's, or no permission).")
            % {"object": obj}
        )
    value = _clean_value(obj, field, new_value)
    reason = (reason or "").strip()
    model = type(obj)
    with transaction.atomic():
        current = lock_row(model, obj.pk)
        if expected_version is not None and current.version != int(expected_version):
            raise ConcurrentEditError(current, expected_version, {field: value}, [field])
        old = getattr(current, field)
        if old != value:
            setattr(current, field, value)
            extra = prepare_amendment(current, field, old, reason)
            with change_context(user=user, reason=reason):
                save_versioned(current, None, update_fields=[field, *extra])
    for name in (field, keep, "version"):
        setattr(obj, name, getattr(current, name))
    return current


def side_by_side(obj, field):
    """(original, revised) of an amendable field: the published value and the current one.

    Never amended: both are the current value.
    """
    original = getattr(obj, original_field(obj, field))
    revised = getattr(obj, field)
    return (revised if original is None else original), revised


def targets_side_by_side(indicator):
    """(original, revised) annual target of an indicator."""
    return side_by_side(indicator, "annual_target")


def budgets_side_by_side(obj):
    """(original, revised) budget of a strategic goal or unit program."""
    return side_by_side(obj, "budget")


def was_amended(obj, field):
    original, revised = side_by_side(obj, field)
    return original != revised


def publish(user, plan):
    """Publish `plan` (plan admins): from now on targets and budgets change with a reason."""
    if not can(user, "change", plan):
        raise AmendmentError(_("Only a plan admin can publish a plan."))
    with transaction.atomic():
        current = lock_row(Plan, plan.pk)
        if current.published_at is not None:
            raise AmendmentError(
                _("%(plan)s was already published on %(date)s.")
                % {
                    "plan": current,
                    "date": timezone.localtime(current.published_at).strftime("%Y-%m-%d"),
                }
            )
        current.published_at = timezone.now()
        with change_context(user=user):
            save_versioned(current, None, update_fields=["published_at"])
    plan.published_at, plan.version = current.published_at, current.version
    return current


# ---------------------------------------------------------------- admin


class _AmendmentFormMixin:
    amendment_field = None

    def clean(self):
        cleaned = super().clean()
        field = self.amendment_field
        if field in self.changed_data and self.instance.pk is not None:
            if requires_reason(self.instance, field):
                if not (cleaned.get(REASON_FIELD) or "").strip():
                    self.add_error(REASON_FIELD, _missing_reason(self.instance, field))
        return cleaned


def _reason_field():
    return forms.CharField(
        label=gettext_lazy("reason for the amendment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=gettext_lazy(
            "The plan is published: a change of the target or budget needs a reason. "
            "The published value is kept beside the new one."
        ),
    )


class AmendmentAdminMixin:
    """A published plan's target/budget is changed in the admin only with a reason.

    Before the ModelAdmin base (and any locking base): the change form gets a
    "reason for the amendment" field (not a model field) while the plan is published; a
    change of the amendable field without it is a form error; the save keeps the published
    value and logs the reason (prepare_amendment, then the normal, version-checked save).
    """

    def _amendment_field(self):
        return amendable_field(self.model)

    def _wants_reason(self, request, obj):
        return (
            obj is not None
            and obj.pk is not None
            and self.has_change_permission(request, obj)
            and requires_reason(obj, self._amendment_field())
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._wants_reason(request, obj) or REASON_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        return [*fieldsets, (gettext_lazy("Amendment"), {"fields": [REASON_FIELD]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return extra_form_fields_get_form(
            self,
            super().get_form,
            request,
            obj,
            change,
            kwargs,
            {REASON_FIELD: (_reason_field, _AmendmentFormMixin)},
            attrs={"amendment_field": self._amendment_field()},
            wanted=self._wants_reason(request, obj),
        )

    def save_model(self, request, obj, form, change):
        field = self._amendment_field()
        if not change or REASON_FIELD not in form.fields:
            return super().save_model(request, obj, form, change)
        reason = (form.cleaned_data.get(REASON_FIELD) or "").strip()
        old = type(obj)._default_manager.filter(pk=obj.pk).values_list(field, flat=True).first()
        prepare_amendment(obj, field, old, reason)
        with change_context(reason=reason if old != getattr(obj, field) else ""):
            return super().save_model(request, obj, form, change)


def display_side_by_side(obj, field):
    """ "original → revised" for list pages and exports ("" when never amended)."""
    original, revised = side_by_side(obj, field)
    if original == revised:
        return ""
    return f"{format_amount(original)} → {format_amount(revised)}"
