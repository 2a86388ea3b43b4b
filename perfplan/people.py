"""People: user accounts, their roles and departments — who may manage whom, in one place.

Every way of changing a person calls these functions: the user admin (add, change and
password forms), load_demo and any command. Each function decides whether `actor` may do it,
writes inside one transaction, and leaves its entries in the change log with the actor and
the reason (the entries themselves are written by perfplan.signals, which also log changes
made any other way, e.g. from a shell).

The rules:
- Superusers manage everyone and grant every role. They are made with `createsuperuser`
  only: no function here (and no admin form) sets or clears the superuser flag.
- Plan admins (성과관리 관리자) manage people through the roles and department assignments
  only: never the superuser flag, raw permissions or the plan-admin role itself (only a
  superuser makes a plan admin), and never a superuser or another plan admin (their
  password, roles, departments, active flag or names).
- Everyone may set their own password.
- The staff flag follows the roles: a person with a role (or a superuser) is staff.
- `actor=None` is the operator at the command line (load_demo): the superuser's rights.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .changelog import change_context
from .models import DepartmentAssignment
from .roles import PLAN_ADMIN, ROLES


class PeopleDenied(PermissionDenied):
    """A change of a person that the actor may not make (answered 403 by the admin)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- the rules


def role_names(user):
    """The roles (group names) `user` holds, read once per user object."""
    if user is None or user.pk is None:
        return frozenset()
    if not hasattr(user, "_perfplan_role_names"):
        user._perfplan_role_names = frozenset(
            user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        )
    return user._perfplan_role_names


def _is_operator(actor):
    return actor is None or (actor.is_active and actor.is_superuser)


def manages_people(actor):
    """Whether `actor` may create and change people at all."""
    return _is_operator(actor) or (actor.is_active and PLAN_ADMIN in role_names(actor))


def grantable_roles(actor):
    """The roles `actor` may give or take away, in the order of perfplan.roles.ROLES."""
    if _is_operator(actor):
        return ROLES
    if manages_people(actor):
        return tuple(role for role in ROLES if role != PLAN_ADMIN)
    return ()


def may_manage(actor, user):
    """Whether `actor` may change `user`'s roles, departments, active flag, names, password."""
    if not manages_people(actor):
        return False
    if _is_operator(actor) or user.pk is None:
        return True
    # A plan admin holds the plan-admin role, so this also keeps them from editing their
    # own roles and flags: another plan admin or a superuser does that.
    return not user.is_superuser and PLAN_ADMIN not in role_names(user)


def may_set_password(actor, user):
    if actor is not None and actor.pk is not None and actor.pk == user.pk and actor.is_active:
        return True
    return may_manage(actor, user)


def deny_unless_may_set_password(actor, user):
    if not may_set_password(actor, user):
        raise PeopleDenied(
            _("You may not set the password of %(user)s: only a superuser does.")
            % {"user": user.get_username()}
        )


def _deny_unless_manages(actor, user):
    if not may_manage(actor, user):
        raise PeopleDenied(
            _(
                "You may not change the account %(user)s: only a superuser manages superusers and plan admins."
            )
            % {"user": user.get_username()}
        )


def _require_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise PeopleDenied(_("A reason is required for every change to a person."))
    return reason


def _check_roles(actor, before, after):
    unknown = set(after) - set(ROLES)
    if unknown:
        raise PeopleDenied(_("Unknown role: %(roles)s.") % {"roles": ", ".join(sorted(unknown))})
    changed = set(before) ^ set(after)
    refused = changed - set(grantable_roles(actor))
    if refused:
        raise PeopleDenied(
            _("You may not grant or remove the role %(roles)s: only a superuser does.")
            % {"roles": ", ".join(sorted(refused))}
        )


def _context(actor, reason):
    values = {"reason": reason}
    if actor is not None:
        values["user"] = actor
    return change_context(**values)


# ---------------------------------------------------------------- the writes


def _apply_roles(user, roles):
    roles = set(roles)
    before = set(role_names(user))
    if before != roles:
        groups = Group.objects.filter(name__in=ROLES)
        # Removals and additions separately, so that each is one log entry naming them.
        removed = [g for g in groups if g.name in before - roles]
        added = [g for g in groups if g.name in roles - before]
        if removed:
            user.groups.remove(*removed)
        if added:
            user.groups.add(*added)
    user._perfplan_role_names = frozenset(roles)
    staff = user.is_superuser or bool(roles)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def _apply_departments(user, departments):
    wanted = {getattr(d, "pk", d) for d in departments}
    current = dict(
        DepartmentAssignment.objects.filter(user=user).values_list("department_id", "pk")
    )
    for department_id in sorted(set(current) - wanted):
        # One by one: each removal is its own log entry, filed under its department.
        DepartmentAssignment.objects.get(pk=current[department_id]).delete()
    for department_id in sorted(wanted - set(current)):
        DepartmentAssignment.objects.create(user=user, department_id=department_id)
    if hasattr(user, "_perfplan_department_ids"):
        del user._perfplan_department_ids


def create_user(
    actor,
    username,
    *,
    reason,
    password=None,
    first_name="",
    last_name="",
    email="",
    is_active=True,
    roles=(),
    departments=(),
):
    """A new (never super) user with `roles` and `departments`; no password: unusable."""
    if not manages_people(actor):
        raise PeopleDenied(_("You may not create accounts."))
    reason = _require_reason(reason)
    _check_roles(actor, (), roles)
    User = get_user_model()
    with transaction.atomic(), _context(actor, reason):
        if User._default_manager.filter(username=username).exists():
            raise PeopleDenied(_("An account named %(user)s already exists.") % {"user": username})
        user = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=User._default_manager.normalize_email(email),
            is_active=is_active,
            is_staff=bool(roles),
            is_superuser=False,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        _apply_roles(user, roles)
        _apply_departments(user, departments)
    return user


def update_user(actor, user, *, reason, **fields):
    """Change the active flag, names or e-mail of `user` (only the fields given)."""
    allowed = {"first_name", "last_name", "email", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise PeopleDenied(
            _("These fields are not changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    _deny_unless_manages(actor, user)
    reason = _require_reason(reason)
    if fields.get("is_active") is False and actor is not None and actor.pk == user.pk:
        raise PeopleDenied(_("You may not deactivate your own account."))
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    if not changed:
        return user
    with transaction.atomic(), _context(actor, reason):
        for name in changed:
            setattr(user, name, fields[name])
        user.save(update_fields=changed)
    return user


def set_roles(actor, user, roles, reason):
    """Give `user` exactly `roles` (names from perfplan.roles.ROLES)."""
    _deny_unless_manages(actor, user)
    reason = _require_reason(reason)
    _check_roles(actor, role_names(user), roles)
    with transaction.atomic(), _context(actor, reason):
        _apply_roles(user, roles)
    return user


def set_departments(actor, user, departments, reason):
    """Assign `user` to exactly `departments` (perfplan.Department objects or ids)."""
    _deny_unless_manages(actor, user)
    reason = _require_reason(reason)
    with transaction.atomic(), _context(actor, reason):
        _apply_departments(user, departments)
    return user


def set_password(actor, user, password, reason):
    """Set (own) or reset (another's) password; None disables password login.

    The change log gets the event, never the hash (perfplan.signals)."""
    deny_unless_may_set_password(actor, user)
    reason = _require_reason(reason)
    with transaction.atomic(), _context(actor, reason):
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
