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
    "perfplan": ["plan", "department"],
    "goals": ["plandepartment", "strategicgoal", "policygoal"],
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
    + _perms({"reports": ["resulttext", "resultsreport"]}, ALL_ACTIONS)
    # Assignments are listed; they change on the user's page, through perfplan.people.
    + _perms({"perfplan": ["importbatch", "changelogentry", "departmentassignment"]}, ("view",))
    # Users through their roles and departments only; perfplan.people says whom.
    + _perms({"auth": ["user"]}, ("view", "add", "change"))
    # API tokens of the people they manage (api.tokens says whose); revoked, never deleted.
    + _perms({"api": ["apitoken"]}, ("view", "add", "change"))
    + [
        ("indicators", "reopen_result"),
        ("perfplan", "view_all_departments"),
        ("perfplan", "change_all_departments"),
    ],
    OFFICER: _VIEW_PLAN
    + _perms({"indicators": ["result"]}, ("view", "add", "change"))
    + _perms({"indicators": ["evidence"]}, ("view", "add", "delete"))
    + [("indicators", "submit_result")]
    # The results report's texts go through the review of results (reports.texts).
    + _perms({"reports": ["resulttext"]}, ("view", "add", "change"))
    + _perms({"reports": ["resultsreport"]}, ("view",)),
    REVIEWER: _VIEW_PLAN
    + _perms({"indicators": ["result", "evidence"]}, ("view",))
    + _perms({"reports": ["resulttext", "resultsreport"]}, ("view",))
    + [("indicators", "review_result")],
    AUDITOR: _VIEW_PLAN
    + _perms({"indicators": ["result", "evidence", "entryexception"]}, ("view",))
    + _perms({"reports": ["resulttext", "resultsreport"]}, ("view",))
    + _perms({"perfplan": ["importbatch", "changelogentry", "departmentassignment"]}, ("view",))
    + _perms({"auth": ["user"]}, ("view",))
    # Which token a change-log entry's request id names (api-token:<prefix>:…).
    + _perms({"api": ["apitoken"]}, ("view",))
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


def may_view_plan_tables(user, plan):
    """Whether `user` reads the plan summary (tables 가 and 나) of `plan`.

    Decided once for every page and export: the plan is a public document (it is published
    to citizens), so every signed-in role that may see plans reads its summary — every
    department's table 가 row and the whole table 나, drafts included as on the plan's page.
    Results, evidence and the change log stay scoped by department (perfplan.scoping).
    """
    return (
        plan is not None
        and user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm("perfplan.view_plan")
    )
