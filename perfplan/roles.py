"""The four roles and what each may do.

Group names are what staff see, so they are Korean. Groups are kept in line with
ROLE_PERMISSIONS after every migrate (perfplan.apps), so a new model's permissions reach the
roles without a hand-written data migration.
"""

PLAN_ADMIN = "성과관리 관리자"
OFFICER = "담당자"
REVIEWER = "부서 승인자"
AUDITOR = "감사"
ROLES = (PLAN_ADMIN, OFFICER, REVIEWER, AUDITOR)

PLAN_MODELS = {
    "perfplan": ["plan"],
    "goals": ["department", "plandepartment", "strategicgoal", "policygoal"],
    "budgets": ["unitprogram"],
    "indicators": ["indicator", "periodtarget"],
}
ALL_ACTIONS = ("view", "add", "change", "delete")


def _perms(models, actions):
    return [
        (app, f"{action}_{model}")
        for app, names in models.items()
        for model in names
        for action in actions
    ]


_VIEW_PLAN = _perms(PLAN_MODELS, ("view",))

ROLE_PERMISSIONS = {
    PLAN_ADMIN: _perms(PLAN_MODELS, ALL_ACTIONS)
    + _perms({"indicators": ["result", "evidence", "entryexception"]}, ALL_ACTIONS)
    + _perms({"perfplan": ["departmentassignment"]}, ALL_ACTIONS)
    + _perms({"perfplan": ["importbatch", "changelogentry"]}, ("view",))
    + _perms({"auth": ["user"]}, ("view", "add", "change"))
    + [
        ("indicators", "reopen_result"),
        ("perfplan", "view_all_departments"),
        ("perfplan", "change_all_departments"),
    ],
    OFFICER: _VIEW_PLAN
    + _perms({"indicators": ["result"]}, ("view", "add", "change"))
    + _perms({"indicators": ["evidence"]}, ("view", "add", "delete"))
    + [("indicators", "submit_result")],
    REVIEWER: _VIEW_PLAN
    + _perms({"indicators": ["result", "evidence"]}, ("view",))
    + [("indicators", "review_result")],
    AUDITOR: _VIEW_PLAN
    + _perms({"indicators": ["result", "evidence", "entryexception"]}, ("view",))
    + _perms({"perfplan": ["importbatch", "changelogentry", "departmentassignment"]}, ("view",))
    + _perms({"auth": ["user"]}, ("view",))
    + [("perfplan", "view_all_departments")],
}


def sync_role_groups(group_model, permission_model, role_permissions=None):
    """Give each role's group exactly its permissions (skipping any not created yet)."""
    role_permissions = role_permissions or ROLE_PERMISSIONS
    for name, perms in role_permissions.items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = []
        for app_label, codename in perms:
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
