"""Department scoping: the one place that decides which rows a user may see or change.

In the spirit of NetBox's RestrictedQuerySet.restrict(user, action): every admin list and
form, staff view, filter, export, import, chart, search and evidence download narrows its
queryset with restrict() (or asks can() / may_act_in()). Officers and reviewers reach the
departments they are assigned to; plan admins reach everything; auditors see everything and
change nothing.

Each model with department data declares once, with a `scope = Scope(…)` attribute, where
its rows belong: the foreign key to the row it hangs under (Indicator: its policy goal), or
the paths to its department and plan when it holds them itself. Every full path (an
indicator's department: through its policy goal, strategic goal and plan department) is
composed from those declarations, never written out; the querysets (ScopedQuerySet:
restrict, of_departments, in_plan, in_year, under), the change log's department and year of
an entry and the admin's scoping all read them.
"""

from __future__ import annotations

from django.db import models
from django.utils.functional import cached_property

STANDARD_ACTIONS = ("view", "add", "change", "delete")

# A path naming the row itself: Department's department, Plan's plan.
SELF = "self"


class Scope:
    """Where the rows of one model belong: their department and their plan.

    Scope("policy_goal"): as the row the foreign key `policy_goal` points to.
    Scope(department="department", plan="plan"): through the row's own foreign keys
    (SELF for the row itself); a keyword given with a parent overrides the parent's path.
    No department path at all (the plan): shared by every department, changed only by those
    who change every department's data.
    `logged`: the change log records single saves of the model (derived rows are not).
    `permissions`: a foreign key whose model's permissions govern these rows (derived rows
    without permissions of their own: an indicator's standing is read as the indicator).
    """

    def __init__(self, parent=None, *, department=None, plan=None, logged=True, permissions=None):
        self.parent = parent
        self._department = department
        self._plan = plan
        self._permissions = permissions
        self.logged = logged
        self.model = None

    def contribute_to_class(self, cls, name):
        self.model = cls
        setattr(cls, name, self)

    def __repr__(self):
        return f"<Scope of {self.model._meta.label if self.model else '?'}>"

    # ---------------------------------------------------------------- composed paths

    @cached_property
    def parent_scope(self):
        if not self.parent:
            return None
        return scope_of(self.model._meta.get_field(self.parent).related_model)

    def _parts(self, declared, inherited):
        if declared is not None:
            return () if declared == SELF else tuple(declared.split("__"))
        if self.parent_scope is None:
            return None
        parts = inherited(self.parent_scope)
        return None if parts is None else (self.parent, *parts)

    @cached_property
    def permission_model(self):
        """The model whose view/add/change/delete permissions govern these rows."""
        if self._permissions is None:
            return self.model
        return self.model._meta.get_field(self._permissions).related_model

    @cached_property
    def department_parts(self):
        return self._parts(self._department, lambda scope: scope.department_parts)

    @cached_property
    def plan_parts(self):
        return self._parts(self._plan, lambda scope: scope.plan_parts)

    @property
    def shared(self):
        """The rows belong to no department (the plan itself)."""
        return self.department_parts is None

    @cached_property
    def department(self):
        """Lookup from a row to its department ("pk" for a department); None if shared."""
        if self.department_parts is None:
            return None
        return "__".join(self.department_parts) or "pk"

    @cached_property
    def plan(self):
        """Lookup from a row to its plan ("pk" for a plan); None without a plan."""
        if self.plan_parts is None:
            return None
        return "__".join(self.plan_parts) or "pk"

    @cached_property
    def year(self):
        """Lookup from a row to its plan's fiscal year; None without a plan."""
        if self.plan_parts is None:
            return None
        return "__".join((*self.plan_parts, "fiscal_year"))

    def to(self, model):
        """Lookup from a row to the `model` row it hangs under, through the parents
        (Result.scope.to(PlanDepartment): "indicator__policy_goal__…")."""
        if self.model is model:
            return "pk"
        parts, scope = [], self
        while scope.model is not model:
            if scope.parent_scope is None:
                raise LookupError(f"{self.model._meta.label} does not hang under {model}")
            parts.append(scope.parent)
            scope = scope.parent_scope
        return "__".join(parts)

    # ---------------------------------------------------------------- one row

    def department_id(self, obj):
        """The department id of `obj` as it is now (possibly unsaved), or None."""
        parts = self.department_parts
        if not parts:
            return None if parts is None else obj.pk
        holder = _walk(obj, parts[:-1])
        if holder is None:
            return None
        return getattr(holder, holder._meta.get_field(parts[-1]).attname, None)

    def fiscal_year(self, obj):
        """The fiscal year of the plan of `obj`, or None."""
        if self.plan_parts is None:
            return None
        plan = _walk(obj, self.plan_parts)
        return getattr(plan, "fiscal_year", None)


def ordering_under(field, model, *own):
    """A Meta.ordering: rows in the order of the `model` rows they hang under (through the
    foreign key `field`), then by `own` — the plan's order, composed level by level."""
    inherited = (f"{field}__{name}" for name in model._meta.ordering if name not in ("id", "pk"))
    return [*inherited, *own]


def _walk(obj, parts):
    value = obj
    for part in parts:
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def scope_of(model):
    """The Scope `model` declares, or None."""
    scope = getattr(model, "scope", None)
    return scope if isinstance(scope, Scope) else None


def scoped_models():
    """Every installed model that declares a scope."""
    from django.apps import apps

    return [model for model in apps.get_models() if scope_of(model) is not None]


def _declared(model):
    scope = scope_of(model)
    if scope is None:
        raise LookupError(f"{model._meta.label} declares no department scope")
    return scope


class ScopedQuerySet(models.QuerySet):
    """Querysets of department data: the user's scope and the plan's parts, by declaration."""

    @property
    def scope(self):
        return _declared(self.model)

    def restrict(self, user, action="view"):
        """The rows `user` may `action` (view, add, change, delete, or another step)."""
        if not _active(user):
            return self.none()
        if action in STANDARD_ACTIONS and not user.has_perm(permission(self.model, action)):
            return self.none()
        if sees_all(user, action):
            return self
        if self.scope.shared:  # the plan itself is shared by all; changed only by those who see all
            return self if action == "view" else self.none()
        return self.of_departments(department_ids(user))

    def of_departments(self, departments):
        """Rows of these departments (Department rows or ids)."""
        return self.filter(**{f"{self.scope.department}__in": departments})

    def in_plan(self, plan):
        """Rows of this plan (a Plan or its id)."""
        return self.filter(**{self.scope.plan: plan})

    def in_year(self, fiscal_year):
        """Rows of the plan of this fiscal year."""
        return self.filter(**{self.scope.year: fiscal_year})

    def under(self, model, rows):
        """Rows hanging under these `model` rows (objects or ids; one row or several)."""
        path = self.scope.to(model)
        if isinstance(rows, (list, tuple, set, frozenset, models.QuerySet)):
            return self.filter(**{f"{path}__in": rows})
        return self.filter(**{path: rows})


ScopedManager = models.Manager.from_queryset(ScopedQuerySet, "ScopedManager")


# ---------------------------------------------------------------- the rule


def _active(user):
    return user is not None and user.is_authenticated and user.is_active


def permission(model, action):
    """The model permission of a standard action: "indicators.view_result"."""
    scope = scope_of(model)
    if scope is not None:
        model = scope.permission_model
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def department_ids(user):
    """The Department ids a user is assigned to (cached on the user object)."""
    if not hasattr(user, "_perfplan_department_ids"):
        from .models import DepartmentAssignment

        user._perfplan_department_ids = frozenset(
            DepartmentAssignment.objects.filter(user=user).values_list("department_id", flat=True)
        )
    return user._perfplan_department_ids


def sees_all(user, action="view"):
    """Whether `user` reaches every department's data for `action`."""
    if user.is_superuser:
        return True
    if action == "view":
        return user.has_perm("perfplan.view_all_departments")
    return user.has_perm("perfplan.change_all_departments")


def may_act_in(user, perm, department_id):
    """Whether `user` has `perm` ("indicators.add_result") for data of `department_id`: they
    reach every department for the permission's action, or the department is one of theirs.
    restrict()'s rule, for one department (a row not written yet, an unsaved change); a
    department id of None (the shared plan) is for those who reach every department."""
    if not _active(user) or not user.has_perm(perm):
        return False
    action = perm.rpartition(".")[2].partition("_")[0]
    if sees_all(user, action):
        return True
    return department_id is not None and department_id in department_ids(user)


def restrict(queryset, user, action="view"):
    """`queryset` narrowed to what `user` may `action` (ScopedQuerySet.restrict)."""
    return queryset.restrict(user, action)


def can(user, action, obj):
    """Whether `user` may `action` this object (same rule as restrict)."""
    if obj is None or obj.pk is None:
        return False
    return type(obj)._default_manager.filter(pk=obj.pk).restrict(user, action).exists()


def get_or_deny(queryset, user, action="view", **lookup):
    """The object, or 404-like refusal: a changed id never reveals another department."""
    from django.http import Http404

    obj = queryset.restrict(user, action).filter(**lookup).first()
    if obj is None:  # the same answer whether the row exists elsewhere or not at all
        raise Http404
    return obj
