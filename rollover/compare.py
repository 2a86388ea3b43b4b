"""Two plan years side by side: goals and indicators added, removed, renamed and
re-targeted, and budgets that changed.

Records are matched across years by what stays: a department by its identity
(perfplan.Department), a goal by its name under its department (strategic goals) or its
strategic goal (policy goals), an indicator by its predecessor links (rollover.services
sets them), else its code, else its name under its department. A goal the names do not
match is "renamed" when the indicators under it came from one goal of the other year (their
links say so); otherwise it is removed there and added here. A unit program is matched by
its code, else its name under its department.

A fixed number of queries whatever the plans' size (each level of both plans in one query,
and the links between them in one more).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator
from perfplan.tabular import Column, name_key
from perfplan.xlsx import Table

ADDED, REMOVED, RENAMED, RETARGETED, CHANGED = (
    "added",
    "removed",
    "renamed",
    "retargeted",
    "changed",
)
CHANGE_LABELS = {
    ADDED: _("added"),
    REMOVED: _("removed"),
    RENAMED: _("renamed"),
    RETARGETED: _("re-targeted"),
    CHANGED: _("changed"),
}
LEVEL_LABELS = {
    "department": _("department"),
    "strategic_goal": _("strategic goal"),
    "policy_goal": _("policy program goal"),
    "indicator": _("performance indicator"),
    "unit_program": _("unit program"),
}
TARGET_FIELDS = ("annual_target", "target_min", "target_max")


@dataclass
class Row:
    """One difference between the two years."""

    level: str
    kinds: tuple  # ADDED, REMOVED, RENAMED, RETARGETED, CHANGED
    department: str
    under: str = ""
    old_name: str = ""
    new_name: str = ""
    code: str = ""
    old_value: object = None  # a target (text) or a budget (Decimal)
    new_value: object = None

    @property
    def level_label(self):
        return LEVEL_LABELS[self.level]

    @property
    def kinds_label(self):
        return ", ".join(str(CHANGE_LABELS[k]) for k in self.kinds)

    @property
    def difference(self):
        if self.old_value is None or self.new_value is None:
            return None
        try:
            return self.new_value - self.old_value
        except TypeError:
            return None


@dataclass
class Comparison:
    old_plan: object
    new_plan: object
    goals: list = field(default_factory=list)
    indicators: list = field(default_factory=list)
    budgets: list = field(default_factory=list)


@dataclass
class _Side:
    """One plan's records by id, with their names."""

    departments: dict
    strategic_goals: dict
    policy_goals: dict
    indicators: dict
    unit_programs: dict

    def department_of_sg(self, sg):
        return self.departments[sg.plan_department_id]

    def sg_of_pg(self, pg):
        return self.strategic_goals[pg.strategic_goal_id]

    def department_of_pg(self, pg):
        return self.department_of_sg(self.sg_of_pg(pg))


def _load(plan):
    departments = {pd.pk: pd for pd in PlanDepartment.objects.filter(plan=plan)}
    sgs = {
        sg.pk: sg
        for sg in StrategicGoal.objects.filter(plan_department__plan=plan).order_by(
            "plan_department__position", "position", "pk"
        )
    }
    pgs = {pg.pk: pg for pg in PolicyGoal.objects.in_plan(plan).order_by("position", "pk")}
    indicators = {
        i.pk: i
        for i in Indicator.objects.in_plan(plan)
        .order_by("position", "pk")
        .only("pk", "name", "code", "policy_goal_id", "predecessor_id", *TARGET_FIELDS)
    }
    ups = {u.pk: u for u in UnitProgram.objects.in_plan(plan).order_by("position", "pk")}
    return _Side(departments, sgs, pgs, indicators, ups)


def _links(old_plan, new_plan, new_side, old_ids):
    """new indicator id -> old indicator id, through the predecessor links of every year
    between the two (one query)."""
    year = Indicator.scope.year
    predecessor = dict(
        Indicator.objects.filter(
            **{f"{year}__gt": old_plan.fiscal_year, f"{year}__lte": new_plan.fiscal_year}
        )
        .exclude(predecessor_id=None)
        .order_by()
        .values_list("pk", "predecessor_id")
    )
    links = {}
    for pk in new_side.indicators:
        step = predecessor.get(pk)
        for _year in range(new_plan.fiscal_year - old_plan.fiscal_year):
            if step is None or step in old_ids:
                break
            step = predecessor.get(step)
        if step in old_ids:
            links[pk] = step
    return links


def compare_plans(old_plan, new_plan):
    """The Comparison of `old_plan` with `new_plan` (usually the year before)."""
    old, new = _load(old_plan), _load(new_plan)
    links = _links(old_plan, new_plan, new, frozenset(old.indicators))
    comparison = Comparison(old_plan, new_plan)
    indicator_match = _match_indicators(old, new, links)
    sg_match, pg_match = _match_goals(old, new, indicator_match)
    comparison.goals = _goal_rows(old, new, sg_match, pg_match)
    comparison.indicators = _indicator_rows(old, new, indicator_match)
    comparison.budgets = _budget_rows(old, new, sg_match)
    return comparison


def _match_indicators(old, new, links):
    """new indicator id -> old indicator id."""
    matched, taken = {}, set()
    by_code = {}
    by_name = {}
    for ind in old.indicators.values():
        if ind.code:
            by_code.setdefault(ind.code, ind.pk)
        department = old.department_of_pg(old.policy_goals[ind.policy_goal_id]).department_id
        by_name.setdefault((department, name_key(ind.name)), ind.pk)
    for ind in new.indicators.values():
        department = new.department_of_pg(new.policy_goals[ind.policy_goal_id]).department_id
        for candidate in (
            links.get(ind.pk),
            by_code.get(ind.code) if ind.code else None,
            by_name.get((department, name_key(ind.name))),
        ):
            if candidate is not None and candidate not in taken:
                matched[ind.pk] = candidate
                taken.add(candidate)
                break
    return matched


def _majority(ids):
    counted = Counter(i for i in ids if i is not None).most_common(1)
    return counted[0][0] if counted else None


def _match_goals(old, new, indicator_match):
    """new strategic goal id -> old id, new policy goal id -> old id: by name under the
    matched parent, else by where their indicators came from (a renamed goal)."""
    sg_by_name = {
        (old.department_of_sg(sg).department_id, name_key(sg.name)): sg.pk
        for sg in old.strategic_goals.values()
    }
    sg_match = {}
    for sg in new.strategic_goals.values():
        key = (new.department_of_sg(sg).department_id, name_key(sg.name))
        if key in sg_by_name:
            sg_match[sg.pk] = sg_by_name[key]
    old_pg_of = {
        pk: old.indicators[old_pk].policy_goal_id for pk, old_pk in indicator_match.items()
    }
    pg_by_name = {
        (pg.strategic_goal_id, name_key(pg.name)): pg.pk for pg in old.policy_goals.values()
    }
    pg_match = {}
    new_pg_indicators = defaultdict(list)
    for ind in new.indicators.values():
        new_pg_indicators[ind.policy_goal_id].append(ind.pk)
    # Renamed strategic goals first (through their policy goals' indicators), then goals by name.
    for sg in new.strategic_goals.values():
        if sg.pk in sg_match:
            continue
        sources = [
            old.policy_goals[old_pg_of[i]].strategic_goal_id
            for pg in new.policy_goals.values()
            if pg.strategic_goal_id == sg.pk
            for i in new_pg_indicators[pg.pk]
            if i in old_pg_of
        ]
        candidate = _majority(sources)
        if candidate is not None and candidate not in sg_match.values():
            sg_match[sg.pk] = candidate
    taken = set()
    for pg in new.policy_goals.values():
        old_sg = sg_match.get(pg.strategic_goal_id)
        candidate = pg_by_name.get((old_sg, name_key(pg.name))) if old_sg else None
        if candidate is None:
            candidate = _majority(old_pg_of.get(i) for i in new_pg_indicators[pg.pk])
        if candidate is not None and candidate not in taken:
            pg_match[pg.pk] = candidate
            taken.add(candidate)
    return sg_match, pg_match


def _goal_rows(old, new, sg_match, pg_match):
    rows = []
    levels = (
        ("strategic_goal", "strategic_goals", sg_match, _sg_place),
        ("policy_goal", "policy_goals", pg_match, _pg_place),
    )
    for level, attribute, match, place in levels:
        old_items, new_items = getattr(old, attribute), getattr(new, attribute)
        for item in new_items.values():
            department, under = place(new, item)
            before = old_items.get(match.get(item.pk))
            if before is None:
                rows.append(Row(level, (ADDED,), department, under, "", item.name))
            elif name_key(before.name) != name_key(item.name):
                rows.append(Row(level, (RENAMED,), department, under, before.name, item.name))
        kept = set(match.values())
        for item in old_items.values():
            if item.pk not in kept:
                department, under = place(old, item)
                rows.append(Row(level, (REMOVED,), department, under, item.name, ""))
    return rows


def _sg_place(side, sg):
    return side.department_of_sg(sg).name, ""


def _pg_place(side, pg):
    sg = side.sg_of_pg(pg)
    return side.department_of_sg(sg).name, sg.name


def _target_text(indicator):
    low, high = indicator.target_min, indicator.target_max
    if low is not None or high is not None:
        return f"{_plain(low)}–{_plain(high)}"
    return _plain(indicator.annual_target)


def _plain(value):
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _indicator_rows(old, new, indicator_match):
    rows = []
    for ind in new.indicators.values():
        pg = new.policy_goals[ind.policy_goal_id]
        department = new.department_of_pg(pg).name
        before = old.indicators.get(indicator_match.get(ind.pk))
        if before is None:
            rows.append(
                Row("indicator", (ADDED,), department, pg.name, "", ind.name, ind.code, None)
            )
            rows[-1].new_value = _target_text(ind)
            continue
        kinds = []
        if name_key(before.name) != name_key(ind.name):
            kinds.append(RENAMED)
        if any(getattr(before, f) != getattr(ind, f) for f in TARGET_FIELDS):
            kinds.append(RETARGETED)
        if kinds:
            rows.append(
                Row(
                    "indicator",
                    tuple(kinds),
                    department,
                    pg.name,
                    before.name,
                    ind.name,
                    ind.code,
                    _target_text(before),
                    _target_text(ind),
                )
            )
    kept = set(indicator_match.values())
    for ind in old.indicators.values():
        if ind.pk not in kept:
            pg = old.policy_goals[ind.policy_goal_id]
            row = Row("indicator", (REMOVED,), old.department_of_pg(pg).name, pg.name, ind.name)
            row.code, row.old_value = ind.code, _target_text(ind)
            rows.append(row)
    return rows


def _budget_rows(old, new, sg_match):
    rows = []
    old_departments = {pd.department_id: pd for pd in old.departments.values()}
    for pd in sorted(new.departments.values(), key=lambda d: (d.position, d.pk)):
        before = old_departments.get(pd.department_id)
        if before is not None and before.declared_budget != pd.declared_budget:
            rows.append(
                Row(
                    "department",
                    (CHANGED,),
                    pd.name,
                    "",
                    before.name,
                    pd.name,
                    "",
                    before.declared_budget,
                    pd.declared_budget,
                )
            )
    for sg in new.strategic_goals.values():
        before = old.strategic_goals.get(sg_match.get(sg.pk))
        if before is not None and before.budget != sg.budget:
            rows.append(
                Row(
                    "strategic_goal",
                    (CHANGED,),
                    new.department_of_sg(sg).name,
                    "",
                    before.name,
                    sg.name,
                    "",
                    before.budget,
                    sg.budget,
                )
            )
    rows.extend(_unit_program_rows(old, new))
    return rows


def _unit_program_rows(old, new):
    rows = []
    by_code, by_name = {}, {}
    for up in old.unit_programs.values():
        if up.code:
            by_code.setdefault(up.code, up)
        department = old.department_of_pg(old.policy_goals[up.policy_goal_id]).department_id
        by_name.setdefault((department, name_key(up.name)), up)
    taken = set()
    for up in new.unit_programs.values():
        pg = new.policy_goals[up.policy_goal_id]
        department = new.department_of_pg(pg)
        before = by_code.get(up.code) if up.code else None
        before = before or by_name.get((department.department_id, name_key(up.name)))
        if before is None or before.pk in taken:
            rows.append(
                Row(
                    "unit_program",
                    (ADDED,),
                    department.name,
                    pg.name,
                    "",
                    up.name,
                    up.code,
                    None,
                    up.budget,
                )
            )
            continue
        taken.add(before.pk)
        if before.budget != up.budget:
            rows.append(
                Row(
                    "unit_program",
                    (CHANGED,),
                    department.name,
                    pg.name,
                    before.name,
                    up.name,
                    up.code,
                    before.budget,
                    up.budget,
                )
            )
    for up in old.unit_programs.values():
        if up.pk not in taken:
            pg = old.policy_goals[up.policy_goal_id]
            rows.append(
                Row(
                    "unit_program",
                    (REMOVED,),
                    old.department_of_pg(pg).name,
                    pg.name,
                    up.name,
                    "",
                    up.code,
                    up.budget,
                    None,
                )
            )
    return rows


# ---------------------------------------------------------------- export


def comparison_tables(comparison):
    """The comparison as three sheets (perfplan.tabular's Table), for the xlsx export."""
    old_year, new_year = comparison.old_plan.fiscal_year, comparison.new_plan.fiscal_year

    def columns(value_kind, old_label, new_label):
        return [
            Column("level", str(_("kind")), "kind"),
            Column("change", str(_("change")), "change"),
            Column("department", str(_("department")), "department"),
            Column("under", str(_("under")), "under"),
            Column("old_name", f"{old_year} {_('name')}", "old name"),
            Column("new_name", f"{new_year} {_('name')}", "new name"),
            Column("code", str(_("code")), "code"),
            Column("old_value", f"{old_year} {old_label}", "old", value_kind),
            Column("new_value", f"{new_year} {new_label}", "new", value_kind),
        ]

    def rows(items):
        return [
            [
                str(r.level_label),
                r.kinds_label,
                r.department,
                r.under,
                r.old_name,
                r.new_name,
                r.code,
                r.old_value,
                r.new_value,
            ]
            for r in items
        ]

    target, budget = str(_("target")), str(_("budget"))
    title = str(_("plan comparison %(old)s-%(new)s") % {"old": old_year, "new": new_year})
    return [
        Table(
            "goals",
            columns("text", "", ""),
            rows(comparison.goals),
            str(_("goals")),
            title=title,
        ),
        Table(
            "indicators",
            columns("text", target, target),
            rows(comparison.indicators),
            str(_("indicators")),
            title=title,
        ),
        Table(
            "budgets",
            columns("amount", budget, budget),
            rows(comparison.budgets),
            str(_("budgets")),
            title=title,
            unit=str(_("(unit: million won)")),
        ),
    ]
