"""The four roles and what each may do in the admin.

Group names are what staff see, so they are Korean. The migration
perfplan/migrations/0002_roles.py creates the groups from ROLE_PERMISSIONS.
"""

PLAN_ADMIN = "성과관리 관리자"
OFFICER = "담당자"
REVIEWER = "부서 승인자"
AUDITOR = "감사"

PLAN_MODELS = {
    "perfplan": ["plan"],
    "goals": ["department", "plandepartment", "strategicgoal", "policygoal"],
    "budgets": ["unitprogram"],
    "indicators": ["indicator"],
}
ALL_ACTIONS = ("view", "add", "change", "delete")


def _perms(actions, extra=()):
    return [
        (app, f"{action}_{model}")
        for app, models in PLAN_MODELS.items()
        for model in models
        for action in actions
    ] + list(extra)


ROLE_PERMISSIONS = {
    PLAN_ADMIN: _perms(ALL_ACTIONS, [("perfplan", "view_importbatch")]),
    OFFICER: _perms(("view",)),
    REVIEWER: _perms(("view",)),
    AUDITOR: _perms(("view",), [("perfplan", "view_importbatch")]),
}
