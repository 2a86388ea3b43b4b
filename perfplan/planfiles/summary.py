"""Domain rules of the plan: reconciliation of table 가 and the plan's tables as data.

Both the admin and the views call these; templates only lay the results out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator
from perfplan.money import budget_shares, change
from perfplan.numbers import json_number
from perfplan.tabular import name_key

from .plan_data import Figures

TOTAL_NAME = "계"
COMPUTED_FIELDS = (
    "strategic_goals",
    "policy_goals",
    "indicators",
    "unit_programs",
    "budget",
    "change",
)
FIELD_LABELS = {
    "strategic_goals": _("strategic goals"),
    "policy_goals": _("policy program goals"),
    "indicators": _("indicators"),
    "unit_programs": _("unit programs"),
    "budget": _("budget"),
    "prior_budget": _("prior-year budget"),
    "change": _("change"),
}


@dataclass
class ReconciledRow:
    """One row of table 가: the figures as declared, as computed, and where they differ."""

    name: str
    declared: Figures
    computed: Figures
    is_total: bool = False
    plan_department: object = None
    differences: list = field(default_factory=list)

    def cells(self):
        """(field, declared, computed, differs) in table 가's column order."""
        out = []
        for name in Figures.FIELDS:
            computed = getattr(self.computed, name) if name in COMPUTED_FIELDS else None
            out.append((name, getattr(self.declared, name), computed, name in self.differences))
        return out


@dataclass
class Reconciliation:
    rows: list
    total: ReconciledRow
    records_unit_programs: bool

    @property
    def all_rows(self):
        """The 계 row first, as the source prints table 가."""
        return [self.total, *self.rows]

    def discrepancies(self):
        found = []
        for row in [*self.rows, self.total]:
            for name in row.differences:
                found.append(
                    {
                        "department": row.name,
                        "field": name,
                        "declared": getattr(row.declared, name),
                        "computed": getattr(row.computed, name),
                    }
                )
        return found


def reconcile(rows, total_declared, records_unit_programs):
    """Compute table 가 from the hierarchy and compare it with the declared figures.

    `rows` are (name, declared Figures, counts dict, plan_department) per department, with
    the counts taken from the hierarchy. A department's budget cannot be computed (it
    includes administrative costs outside the programmes), so it is None; its change is
    its budget − prior-year budget. The total row's computed figures are the column sums.
    """
    reconciled = []
    total_computed = Figures(
        strategic_goals=0,
        policy_goals=0,
        indicators=0,
        unit_programs=0 if records_unit_programs else None,
    )
    money = {"budget": [], "prior_budget": [], "change": []}
    for name, declared, counts, plan_department in rows:
        declared = declared or Figures()
        computed = Figures(
            strategic_goals=counts.get("strategic_goals", 0),
            policy_goals=counts.get("policy_goals", 0),
            indicators=counts.get("indicators", 0),
            unit_programs=counts.get("unit_programs", 0) if records_unit_programs else None,
            budget=None,
            change=change(declared.budget, declared.prior_budget),
        )
        for key in ("strategic_goals", "policy_goals", "indicators", "unit_programs"):
            if getattr(total_computed, key) is not None:
                setattr(total_computed, key, getattr(total_computed, key) + getattr(computed, key))
        for key in money:
            money[key].append(getattr(declared, key))
        row = ReconciledRow(name, declared, computed, plan_department=plan_department)
        row.differences = _differences(declared, computed)
        reconciled.append(row)
    for key, values in money.items():
        if values and all(v is not None for v in values):
            setattr(total_computed, key, sum(values))
    total_computed.prior_budget = None
    total_declared = total_declared or Figures()
    total = ReconciledRow(TOTAL_NAME, total_declared, total_computed, is_total=True)
    total.differences = _differences(total_declared, total_computed)
    return Reconciliation(reconciled, total, records_unit_programs)


def _differences(declared, computed):
    return [
        name
        for name in COMPUTED_FIELDS
        if getattr(declared, name) is not None
        and getattr(computed, name) is not None
        and getattr(declared, name) != getattr(computed, name)
    ]


def _counts_by_department(model, plan):
    """How many `model` rows each plan department of `plan` has."""
    path = model.scope.to(PlanDepartment)
    rows = model.objects.in_plan(plan).values(path).annotate(n=Count("id")).order_by()
    return {row[path]: row["n"] for row in rows}


def reconcile_plan(plan):
    """Table 가 of a stored plan, in a fixed number of queries (one count per level)."""
    departments = list(PlanDepartment.objects.filter(plan=plan).order_by("position", "id"))
    counts = {
        "strategic_goals": _counts_by_department(StrategicGoal, plan),
        "policy_goals": _counts_by_department(PolicyGoal, plan),
        "indicators": _counts_by_department(Indicator, plan),
        "unit_programs": _counts_by_department(UnitProgram, plan),
    }
    records = bool(counts["unit_programs"])
    rows = [
        (
            d.name,
            Figures(**d.declared()),
            {key: by_dept.get(d.pk, 0) for key, by_dept in counts.items()},
            d,
        )
        for d in departments
    ]
    return reconcile(rows, Figures(**plan.declared()), records)


def reconcile_plan_data(data, kept_counts=None):
    """Table 가 of a plan read from a file, before it is written (for previews).

    `kept_counts` (the import's diff) are the stored counts, per department name key, of the
    tables the file does not carry: the plan keeps those, so they are what is compared."""
    kept_counts = kept_counts or {}
    records = data.has_unit_programs or any(
        counts.get("unit_programs") for counts in kept_counts.values()
    )
    rows = []
    for dept in data.departments:
        pgs = [pg for sg in dept.strategic_goals for pg in sg.policy_goals]
        counts = {
            "strategic_goals": len(dept.strategic_goals),
            "policy_goals": len(pgs),
            "indicators": sum(len(pg.indicators) for pg in pgs),
            "unit_programs": sum(len(pg.unit_programs) for pg in pgs),
        }
        counts.update(kept_counts.get(name_key(dept.name), {}))
        rows.append((dept.name, dept.declared, counts, None))
    return reconcile(rows, data.total, records)


@dataclass
class GoalRow:
    strategic_goal: StrategicGoal
    share: object
    share_differs: bool


def hierarchy(plan, plan_departments=None):
    """Table 나: strategic goals in the source's order with policy goals and indicators
    prefetched, each with its computed share beside the declared one; only those of
    `plan_departments` (ids) when given (a page of the plan tables), their shares still
    of the whole plan."""
    goals = StrategicGoal.objects.filter(plan_department__plan=plan)
    shares = budget_shares(dict(goals.order_by().values_list("pk", "budget")))
    if plan_departments is not None:
        goals = goals.filter(plan_department__in=plan_departments)
    goals = list(
        goals.select_related("plan_department")
        .prefetch_related(
            Prefetch(
                "policy_goals",
                queryset=PolicyGoal.objects.order_by("position", "id").prefetch_related(
                    Prefetch("indicators", queryset=Indicator.objects.order_by("position", "id"))
                ),
            ),
        )
        .order_by("plan_department__position", "position", "id")
    )
    rows = []
    for goal in goals:
        share = shares[goal.pk]
        differs = (
            goal.declared_share is not None and share is not None and share != goal.declared_share
        )
        rows.append(GoalRow(goal, share, differs))
    return rows


def _figures_json(figures, keys):
    return {key: json_number(getattr(figures, key)) for key in keys}


def plan_as_json(plan):
    """Both tables as one machine-readable document (export_plan --format json)."""
    recon = reconcile_plan(plan)
    goals_by_department = {}
    for row in hierarchy(plan):
        goal = row.strategic_goal
        goals_by_department.setdefault(goal.plan_department_id, []).append(
            {
                "name": goal.name,
                "budget": json_number(goal.budget),
                "share_pct": json_number(
                    goal.declared_share if goal.declared_share is not None else row.share
                ),
                "computed_share_pct": json_number(row.share),
                "policy_goals": [
                    {"name": pg.name, "indicators": [{"name": i.name} for i in pg.indicators.all()]}
                    for pg in goal.policy_goals.all()
                ],
            }
        )
    departments = []
    for row in recon.rows:
        departments.append(
            {
                "name": row.name,
                "declared": _figures_json(row.declared, Figures.FIELDS),
                "computed": _figures_json(row.computed, COMPUTED_FIELDS),
                "strategic_goals": goals_by_department.get(row.plan_department.pk, []),
            }
        )
    return {
        "year": plan.fiscal_year,
        "departments": departments,
        "total": {
            "declared": _figures_json(recon.total.declared, Figures.FIELDS),
            "computed": _figures_json(recon.total.computed, COMPUTED_FIELDS),
        },
        "discrepancies": [
            {**d, "declared": json_number(d["declared"]), "computed": json_number(d["computed"])}
            for d in recon.discrepancies()
        ],
    }
