"""Which department and plan year each kind of record belongs to.

One table, used by the change log (to file entries under a department) and by department
scoping (perfplan.scoping), so the two can never disagree.
"""

from django.apps import apps

# model label -> (path to the perfplan.Department id, path to the plan's fiscal year)
DEPARTMENT_PATHS = {
    "perfplan.plan": (None, "fiscal_year"),
    "perfplan.department": ("id", None),
    "goals.plandepartment": ("department_id", "plan__fiscal_year"),
    "goals.strategicgoal": ("plan_department__department_id", "plan_department__plan__fiscal_year"),
    "goals.policygoal": (
        "strategic_goal__plan_department__department_id",
        "strategic_goal__plan_department__plan__fiscal_year",
    ),
    "budgets.unitprogram": (
        "policy_goal__strategic_goal__plan_department__department_id",
        "policy_goal__strategic_goal__plan_department__plan__fiscal_year",
    ),
    "indicators.indicator": (
        "policy_goal__strategic_goal__plan_department__department_id",
        "policy_goal__strategic_goal__plan_department__plan__fiscal_year",
    ),
    "indicators.periodtarget": (
        "indicator__policy_goal__strategic_goal__plan_department__department_id",
        "indicator__policy_goal__strategic_goal__plan_department__plan__fiscal_year",
    ),
    "indicators.result": (
        "indicator__policy_goal__strategic_goal__plan_department__department_id",
        "indicator__policy_goal__strategic_goal__plan_department__plan__fiscal_year",
    ),
    "indicators.evidence": (
        "result__indicator__policy_goal__strategic_goal__plan_department__department_id",
        "result__indicator__policy_goal__strategic_goal__plan_department__plan__fiscal_year",
    ),
    "indicators.entryexception": ("department_id", "plan__fiscal_year"),
    "perfplan.departmentassignment": ("department_id", None),
}
# Fields never worth a log line.
UNLOGGED_FIELDS = {
    "version",
    "updated_at",
    "created_at",
    "uploaded_at",
    "content",
    "password",
    "last_login",
}


def tracked_models():
    return [apps.get_model(label) for label in DEPARTMENT_PATHS]


def department_path(model):
    return DEPARTMENT_PATHS[model._meta.label_lower][0]


def _walk(obj, path):
    if path is None:
        return None
    value = obj
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def department_and_year(obj):
    paths = DEPARTMENT_PATHS.get(obj._meta.label_lower)
    if not paths:
        return None, None
    return _walk(obj, paths[0]), _walk(obj, paths[1])
