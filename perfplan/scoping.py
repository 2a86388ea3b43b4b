"""Department scoping: the one place that decides which rows a user may see or change.

In the spirit of NetBox's RestrictedQuerySet.restrict(user, action): every admin list and
form, staff view, filter, export, import, chart, search and evidence download narrows its
queryset with restrict() (or asks can()). Officers and reviewers reach the departments they
are assigned to; plan admins reach everything; auditors see everything and change nothing.
"""

from .tracking import department_path

STANDARD_ACTIONS = ("view", "add", "change", "delete")


def department_ids(user):
    """The goals.Department ids a user is assigned to (cached on the user object)."""
    if not hasattr(user, "_perfplan_department_ids"):
        from .models import DepartmentAssignment

        user._perfplan_department_ids = frozenset(
            DepartmentAssignment.objects.filter(user=user).values_list("department_id", flat=True)
        )
    return user._perfplan_department_ids


def sees_all(user, action="view"):
    if user.is_superuser:
        return True
    if action == "view":
        return user.has_perm("perfplan.view_all_departments")
    return user.has_perm("perfplan.change_all_departments")


def restrict(queryset, user, action="view"):
    """`queryset` narrowed to what `user` may `action` (view, add, change, delete)."""
    model = queryset.model
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if action in STANDARD_ACTIONS:
        codename = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        if not user.has_perm(codename):
            return queryset.none()
    if sees_all(user, action):
        return queryset
    path = department_path(model)
    if path is None:  # the plan itself is shared by all; changed only by those who see all
        return queryset if action == "view" else queryset.none()
    return queryset.filter(**{f"{path}__in": department_ids(user)})


def can(user, action, obj):
    """Whether `user` may `action` this object (same rule as restrict)."""
    if obj is None or obj.pk is None:
        return False
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()


def get_or_deny(queryset, user, action="view", **lookup):
    """The object, or 404-like refusal: a changed id never reveals another department."""
    from django.http import Http404

    obj = restrict(queryset, user, action).filter(**lookup).first()
    if obj is None:  # the same answer whether the row exists elsewhere or not at all
        raise Http404
    return obj
