"""The diff of a plan import: the file's plan against the database, matched by natural keys;
the changes and errors go to the result, the writes to a Work for the apply step. Nothing is
written here; the plan row is locked by the caller."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from budgets.models import UnitProgram
from goals.amendments import is_published, original_field
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Direction, Indicator
from perfplan.models import Department, Plan
from perfplan.tabular import RowError, name_key

from ..plan_data import Figures
from .changes import LEVEL_MODELS, Change, Differ, Work

BULK_BATCH = 2000
LOWER_MARKERS = ("하양지표", "하향지표")


def _figures_values(figures, prefix="declared_"):
    figures = figures or Figures()
    return {f"{prefix}{name}": getattr(figures, name) for name in Figures.FIELDS}


def diff(result, plan, year, data):
    """Compare `data` with the plan of `year` (`plan`, or None: a new plan); returns the Work."""
    work = Work()
    differ = Differ(result)
    existing = load(plan)
    # The plan itself: created when new, its 계 row updated when the summary is given.
    work.plan_obj = plan or Plan(fiscal_year=year)
    work.plan_changed = plan is None
    if data.has_summary:
        values = _figures_values(data.total)
        action = differ.compare("plan", (str(year),), work.plan_obj, values, is_new=plan is None)
        work.plan_changed = action != "unchanged"
    elif plan is None:
        result.changes.append(Change("new", "plan", (str(year),), obj=work.plan_obj, values={}))

    # Departments
    by_key = {name_key(pd.name): pd for pd in existing["departments"]}
    by_code = {pd.department.code: pd for pd in existing["departments"] if pd.department.code}
    identities = _department_identities(data)
    next_position = max((pd.position for pd in existing["departments"]), default=-1) + 1
    seen_departments = set()
    dept_objects = {}
    for index, dd in enumerate(data.departments):
        pd = by_code.get(dd.code) if dd.code else None
        pd = pd or by_key.get(name_key(dd.name))
        if pd is not None and pd.pk in seen_departments:
            result.errors.append(
                RowError(
                    dd.source.file,
                    dd.source.row,
                    "",
                    dd.name,
                    _("two departments of the file match the same department of the plan"),
                )
            )
            continue
        is_new = pd is None
        if is_new:
            identity = identities.get(("code", dd.code)) if dd.code else None
            identity = identity or identities.get(("name", name_key(dd.name)))
            pd = PlanDepartment(department=identity, name=dd.name)
            pd._new_identity = identity is None
            pd._code = dd.code
        else:
            seen_departments.add(pd.pk)
        values = {"name": dd.name}
        if data.has_summary:
            values["position"] = index
            values.update(_figures_values(dd.declared))
        elif is_new:
            values["position"] = next_position
            next_position += 1
        action = differ.compare("department", (dd.name,), pd, values, dd.source, is_new=is_new)
        _schedule(work, PlanDepartment, pd, action, values)
        dept_objects[name_key(dd.name)] = pd
    for pd in existing["departments"]:
        if pd.pk in seen_departments:
            continue
        keep = not (data.has_summary and data.has_hierarchy)
        if data.has_summary and not data.has_hierarchy and not existing["sg_by_dept"][pd.pk]:
            keep = False
        if keep:
            dept_objects.setdefault(name_key(pd.name), pd)
            continue
        work.delete[PlanDepartment].append(pd.pk)

    if data.has_hierarchy or data.has_unit_programs:
        _diff_goals(result, differ, work, existing, data, dept_objects)
    result.kept_counts = _kept_counts(existing, data, dept_objects)
    for pd_id in work.delete[PlanDepartment]:
        pd = existing["pd_by_id"][pd_id]
        result.changes.append(Change("deleted", "department", (pd.name,), obj=pd))
        _cascade_report(result, existing, pd)
    _protect_results(result, work, existing)
    return work


def _kept_counts(existing, data, dept_objects):
    """Per department of the file (by name key): how many goals, indicators and unit
    programs the plan keeps of the tables the file does not carry. A file without table 나
    leaves the stored hierarchy as it is, so the preview's table 가 compares its figures with
    the stored counts, not with nothing (a department new to the plan keeps none)."""
    kept_levels = []
    if not data.has_hierarchy:
        kept_levels += ["strategic_goals", "policy_goals", "indicators"]
    if not data.has_unit_programs:
        kept_levels.append("unit_programs")
    kept = {}
    for key, pd in dept_objects.items():
        sgs = existing["sg_by_dept"].get(pd.pk, []) if pd.pk else []
        pgs = [pg for sg in sgs for pg in existing["pg_by_sg"].get(sg.pk, [])]
        counts = {
            "strategic_goals": len(sgs),
            "policy_goals": len(pgs),
            "indicators": sum(len(existing["ind_by_pg"].get(pg.pk, [])) for pg in pgs),
            "unit_programs": sum(len(existing["up_by_pg"].get(pg.pk, [])) for pg in pgs),
        }
        kept[key] = {level: counts[level] for level in kept_levels}
    return kept


def amendments(result, work, plan, reason):
    """After publication a target or budget change needs a reason; the original is kept.

    Which fields are amendments, and where their published value is kept, is
    goals.amendments' rule (the admin form and amend() follow it too)."""
    if not is_published(plan):
        return
    for change in result.changes:
        if change.action != "changed":
            continue
        model = LEVEL_MODELS[change.level]
        for field_change in change.fields:
            try:
                keep = original_field(model, field_change.field)
            except (KeyError, ValueError):
                continue  # not an amendable field
            if not (reason or "").strip():
                result.errors.append(
                    RowError(
                        change.source.file if change.source else "",
                        change.source.row if change.source else None,
                        field_change.label,
                        " › ".join(change.path),
                        _(
                            "the plan is published: changing %(field)s needs a reason for the "
                            "amendment"
                        )
                        % {"field": field_change.label},
                    )
                )
            elif getattr(change.obj, keep) is None:
                setattr(change.obj, keep, field_change.old)
                work.update_fields[model].add(keep)


def _protect_results(result, work, existing):
    """An indicator with results is never deleted by an import (a rename needs its code)."""
    from indicators.models import Result

    doomed = set(work.delete[Indicator])
    pg_ids, sg_ids = set(work.delete[PolicyGoal]), set(work.delete[StrategicGoal])
    pd_ids = set(work.delete[PlanDepartment])
    for ind in existing["indicators"]:
        if ind.pk in existing["kept_indicators"]:
            continue
        pg = existing["pg_by_id"][ind.policy_goal_id]
        sg = existing["sg_by_id"][pg.strategic_goal_id]
        if pg.pk in pg_ids or sg.pk in sg_ids or sg.plan_department_id in pd_ids:
            doomed.add(ind.pk)
    if not doomed:
        return
    doomed = sorted(doomed)
    with_results = set()
    for start in range(0, len(doomed), BULK_BATCH):
        with_results.update(
            Result.objects.filter(indicator_id__in=doomed[start : start + BULK_BATCH]).values_list(
                "indicator_id", flat=True
            )
        )
    for ind in existing["indicators"]:
        if ind.pk in with_results:
            path = " › ".join(_path_of(existing, ind))
            result.errors.append(
                RowError(
                    "",
                    None,
                    "",
                    path,
                    _(
                        "this indicator has results and would be deleted: keep it in the file, or give "
                        "it its indicator code to rename or move it"
                    ),
                )
            )


def _cascade_report(result, existing, pd):
    for sg in existing["sg_by_dept"][pd.pk]:
        result.changes.append(Change("deleted", "strategic_goal", (pd.name, sg.name), obj=sg))
        _cascade_sg(result, existing, (pd.name,), sg)


def _cascade_sg(result, existing, path, sg):
    for pg in existing["pg_by_sg"][sg.pk]:
        _cascade_pg(result, existing, path + (sg.name,), pg)
        result.changes.append(Change("deleted", "policy_goal", path + (sg.name, pg.name), obj=pg))


def _cascade_pg(result, existing, path, pg):
    for ind in existing["ind_by_pg"][pg.pk]:
        if ind.pk in existing["kept_indicators"]:
            continue  # moved elsewhere by its code
        result.changes.append(Change("deleted", "indicator", path + (pg.name, ind.name), obj=ind))
    for up in existing["up_by_pg"][pg.pk]:
        result.changes.append(Change("deleted", "unit_program", path + (pg.name, up.name), obj=up))


def _schedule(work, model, obj, action, values):
    if action == "new":
        work.create[model].append(obj)
    elif action == "changed":
        work.update[model].append(obj)
        work.update_fields[model].update(values)


def _diff_goals(result, differ, work, existing, data, dept_objects):
    """Strategic goals, policy goals and what hangs under them, department by department;
    then what a complete table no longer has is deleted."""
    walk = _GoalWalk(result, differ, work, existing, data)
    for dd in data.departments:
        pd = dept_objects.get(name_key(dd.name))
        if pd is not None:
            walk.department(dd, pd)
    if data.has_hierarchy:
        _delete_missing_goals(result, work, existing, dept_objects, walk.seen)
    if data.has_unit_programs:
        for up in existing["unit_programs"]:
            seen = walk.seen
            if up.pk not in seen["up"] and (up.policy_goal_id in seen["pg"] or not walk.sync):
                result.changes.append(
                    Change("deleted", "unit_program", _path_of(existing, up), obj=up)
                )
                work.delete[UnitProgram].append(up.pk)


class _GoalWalk:
    """One pass over the file's goals: each matched by name under its parent, compared and
    scheduled; `seen` collects the records the file still has. Without the hierarchy table
    (`sync` off) the goals must exist already: unit programs are matched under them."""

    def __init__(self, result, differ, work, existing, data):
        self.result, self.differ, self.work = result, differ, work
        self.existing, self.data = existing, data
        self.sync = data.has_hierarchy
        self.by_code = {ind.code: ind for ind in existing["indicators"] if ind.code}
        self.seen = {"sg": set(), "pg": set(), "ind": existing["kept_indicators"], "up": set()}

    def department(self, dd, pd):
        known = {name_key(sg.name): sg for sg in self.existing["sg_by_dept"].get(pd.pk, [])}
        for index, sgd in enumerate(dd.strategic_goals):
            path = (dd.name, sgd.name)
            sg = self.strategic_goal(pd, path, known.get(name_key(sgd.name)), sgd, index)
            if sg is not None:
                self.policy_goals(sg, path, sgd)

    def strategic_goal(self, pd, path, sg, sgd, index):
        if sg is None and not self.sync:
            message = _("no such strategic goal in the plan; import the plan table with it first")
            return self.missing(sgd, message)
        if self.sync:
            values = {
                "name": sgd.name,
                "budget": sgd.budget,
                "declared_share": sgd.share,
                "position": index,
            }
            sg = self.compare("strategic_goal", path, sg, values, sgd, StrategicGoal, pd)
        if sg.pk:
            self.seen["sg"].add(sg.pk)
        return sg

    def policy_goals(self, sg, path, sgd):
        known = {name_key(pg.name): pg for pg in self.existing["pg_by_sg"].get(sg.pk, [])}
        for index, pgd in enumerate(sgd.policy_goals):
            pg_path = path + (pgd.name,)
            pg = self.policy_goal(
                sg, pg_path, known.get(name_key(pgd.name)) if sg.pk else None, pgd, index
            )
            if pg is None:
                continue
            if self.sync:
                _diff_indicators(
                    self.result,
                    self.differ,
                    self.work,
                    self.existing,
                    pg,
                    pgd,
                    pg_path,
                    self.by_code,
                    self.seen,
                )
            if self.data.has_unit_programs:
                _diff_unit_programs(
                    self.differ, self.work, self.existing, pg, pgd, pg_path, self.seen
                )

    def policy_goal(self, sg, path, pg, pgd, index):
        if pg is None and not self.sync:
            message = _(
                "no such policy program goal in the plan; import the plan table with it first"
            )
            return self.missing(pgd, message)
        if self.sync:
            values = {"name": pgd.name, "position": index}
            pg = self.compare("policy_goal", path, pg, values, pgd, PolicyGoal, sg)
        if pg.pk:
            self.seen["pg"].add(pg.pk)
        return pg

    def compare(self, level, path, obj, values, item, model, parent):
        """Compare (or create, under `parent`) one goal and schedule its write."""
        is_new = obj is None
        if is_new:
            obj = _new_goal(model, parent)
        action = self.differ.compare(level, path, obj, values, item.source, is_new=is_new)
        _schedule(self.work, model, obj, action, values)
        return obj

    def missing(self, item, message):
        self.result.errors.append(
            RowError(item.source.file, item.source.row, "", item.name, message)
        )


def _new_goal(model, parent):
    if model is StrategicGoal:
        return StrategicGoal(plan_department=parent)
    return PolicyGoal(strategic_goal=parent)


def _delete_missing_goals(result, work, existing, dept_objects, seen):
    """The goals and indicators of the file's departments that the hierarchy table no
    longer has (an indicator moved elsewhere by its code is kept)."""
    for pd in dept_objects.values():
        if not pd.pk:
            continue
        for sg in existing["sg_by_dept"].get(pd.pk, []):
            if sg.pk not in seen["sg"]:
                result.changes.append(
                    Change("deleted", "strategic_goal", (pd.name, sg.name), obj=sg)
                )
                _cascade_sg(result, existing, (pd.name,), sg)
                work.delete[StrategicGoal].append(sg.pk)
                continue
            path = (pd.name, sg.name)
            for pg in existing["pg_by_sg"].get(sg.pk, []):
                if pg.pk not in seen["pg"]:
                    _cascade_pg(result, existing, path, pg)
                    result.changes.append(
                        Change("deleted", "policy_goal", path + (pg.name,), obj=pg)
                    )
                    work.delete[PolicyGoal].append(pg.pk)
    for ind in existing["indicators"]:
        if ind.pk not in seen["ind"] and ind.policy_goal_id in seen["pg"]:
            result.changes.append(Change("deleted", "indicator", _path_of(existing, ind), obj=ind))
            work.delete[Indicator].append(ind.pk)


def _path_of(existing, obj):
    pg = existing["pg_by_id"][obj.policy_goal_id]
    sg = existing["sg_by_id"][pg.strategic_goal_id]
    pd = existing["pd_by_id"][sg.plan_department_id]
    return (pd.name, sg.name, pg.name, obj.name)


def _diff_indicators(result, differ, work, existing, pg, pgd, path, by_code, seen):
    ind_existing = {name_key(i.name): i for i in existing["ind_by_pg"].get(pg.pk, [])}
    for index, ind_data in enumerate(pgd.indicators):
        ind = by_code.get(ind_data.code) if ind_data.code else None
        if ind is not None and ind.pk in seen["ind"]:
            result.errors.append(
                RowError(
                    ind_data.source.file,
                    ind_data.source.row,
                    "",
                    ind_data.code,
                    _("the indicator code is used twice in the file"),
                )
            )
            continue
        ind = ind or ind_existing.get(name_key(ind_data.name))
        if ind is not None and ind.pk in seen["ind"]:
            ind = None
        is_new = ind is None
        values = {"name": ind_data.name, "position": index}
        if pg.pk is None or is_new or ind.policy_goal_id != pg.pk:
            values["policy_goal"] = pg
        if ind_data.code:
            values["code"] = ind_data.code
        for key, value in ind_data.attributes.items():
            if key == "direction" and not value:
                continue
            values[key] = "" if value is None and key in _TEXT_FIELDS else value
        if not ind_data.attributes.get("direction") and any(
            m in ind_data.name for m in LOWER_MARKERS
        ):
            values["direction"] = Direction.LOWER
        if is_new:
            ind = Indicator()
        elif "policy_goal" in values and ind.policy_goal_id == getattr(pg, "pk", None):
            values.pop("policy_goal")
        action = differ.compare(
            "indicator", path + (ind_data.name,), ind, values, ind_data.source, is_new=is_new
        )
        if "policy_goal" in values and not is_new:
            # A move by code: compare() saw a model instance; keep the change readable.
            for change in result.changes[-1].fields:
                if change.field == "policy_goal":
                    change.old = existing["pg_by_id"][change.old.pk].name if change.old else ""
                    change.new = pg.name
        _schedule(work, Indicator, ind, action, values)
        if ind.pk:
            seen["ind"].add(ind.pk)


_TEXT_FIELDS = {
    "unit",
    "formula",
    "data_source",
    "target_rationale",
    "indicator_type",
    "frequency",
    "aggregation",
    "lower_is_better_method",
    "code",
}


def _diff_unit_programs(differ, work, existing, pg, pgd, path, seen):
    up_existing = {name_key(u.name): u for u in existing["up_by_pg"].get(pg.pk, [])}
    for index, upd in enumerate(pgd.unit_programs):
        up = up_existing.get(name_key(upd.name)) if pg.pk else None
        is_new = up is None
        values = {
            "name": upd.name,
            "code": upd.code,
            "budget": upd.budget,
            "prior_budget": upd.prior_budget,
            "position": index,
        }
        if is_new:
            up = UnitProgram(policy_goal=pg)
        action = differ.compare(
            "unit_program", path + (upd.name,), up, values, upd.source, is_new=is_new
        )
        _schedule(work, UnitProgram, up, action, values)
        if up.pk:
            seen["up"].add(up.pk)


def _department_identities(data):
    codes = [d.code for d in data.departments if d.code]
    names = [d.name for d in data.departments]
    found = {}
    for dept in Department.objects.filter(code__in=codes):
        found[("code", dept.code)] = dept
    for dept in Department.objects.filter(name__in=names).order_by("id"):
        found.setdefault(("name", name_key(dept.name)), dept)
    return found


def load(plan):
    existing = {
        "departments": [],
        "sgs": [],
        "pgs": [],
        "indicators": [],
        "unit_programs": [],
        "sg_by_dept": defaultdict(list),
        "pg_by_sg": defaultdict(list),
        "ind_by_pg": defaultdict(list),
        "up_by_pg": defaultdict(list),
        "pd_by_id": {},
        "kept_indicators": set(),
        "sg_by_id": {},
        "pg_by_id": {},
    }
    if plan is None:
        return existing
    existing["departments"] = list(
        PlanDepartment.objects.filter(plan=plan).select_related("department")
    )
    existing["sgs"] = list(StrategicGoal.objects.filter(plan_department__plan=plan))
    existing["pgs"] = list(PolicyGoal.objects.in_plan(plan))
    # In chunks (a server-side cursor on PostgreSQL): a national plan's rows are not also
    # held whole by the database driver while they become objects.
    existing["indicators"] = list(Indicator.objects.in_plan(plan).iterator(chunk_size=BULK_BATCH))
    existing["unit_programs"] = list(
        UnitProgram.objects.in_plan(plan).iterator(chunk_size=BULK_BATCH)
    )
    for pd in existing["departments"]:
        existing["pd_by_id"][pd.pk] = pd
    for sg in existing["sgs"]:
        existing["sg_by_dept"][sg.plan_department_id].append(sg)
        existing["sg_by_id"][sg.pk] = sg
    for pg in existing["pgs"]:
        existing["pg_by_sg"][pg.strategic_goal_id].append(pg)
        existing["pg_by_id"][pg.pk] = pg
    for ind in existing["indicators"]:
        existing["ind_by_pg"][ind.policy_goal_id].append(ind)
    for up in existing["unit_programs"]:
        existing["up_by_pg"][up.policy_goal_id].append(up)
    return existing
