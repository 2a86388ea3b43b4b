"""Write a PlanData into the database: diff first, then one transaction.

Matching is by natural keys only (plan year, department, names, or codes where given),
so re-importing an exported file changes nothing and an edited file updates in place.
A table the source carries is complete: entries of that table missing from the source
are deleted (and listed as such in the preview); tables the source does not carry are
left alone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connections, router, transaction
from django.db.models import NOT_PROVIDED, AutoField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.models import UnitProgram
from goals.amendments import is_published, original_field
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators import standing
from indicators.models import Direction, Indicator
from perfplan import imports
from perfplan.changelog import ChainWriter, current_context, decimal_text, plain
from perfplan.models import Department, Plan
from perfplan.tabular import RowError, TableReadError, name_key

from .plan_data import Figures, PlanData
from .sources import ReadSources, read_sources
from .tables import read_plan_files

BULK_BATCH = 2000
LOWER_MARKERS = ("하양지표", "하향지표")

LEVEL_LABELS = {
    "plan": gettext_lazy("plan"),
    "department": gettext_lazy("department"),
    "strategic_goal": gettext_lazy("strategic goal"),
    "policy_goal": gettext_lazy("policy program goal"),
    "indicator": gettext_lazy("performance indicator"),
    "unit_program": gettext_lazy("unit program"),
}
ACTION_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "unchanged": gettext_lazy("unchanged"),
    "deleted": gettext_lazy("deleted"),
}
LEVELS = tuple(LEVEL_LABELS)
ACTIONS = tuple(ACTION_LABELS)


@dataclass
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass
class Change:
    action: str
    level: str
    path: tuple
    fields: list = field(default_factory=list)
    source: object = None
    obj: object = None  # the record, for the change log (its pk is known after the write)
    values: dict | None = None  # what a new record was created with

    @property
    def level_label(self):
        return LEVEL_LABELS[self.level]

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]

    @property
    def name(self):
        return self.path[-1] if self.path else ""

    @property
    def parents(self):
        return " › ".join(self.path[:-1])


@dataclass
class ImportResult:
    year: int
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    plan: Plan | None = None
    batch: object = None  # perfplan.models.ImportBatch, once applied
    source_kind: str = "tables"  # or "text"
    data: PlanData | None = None  # what was read (the preview reconciles its table 가)

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        counts = {level: dict.fromkeys(ACTIONS, 0) for level in LEVELS}
        for change in self.changes:
            counts[change.level][change.action] += 1
        return counts

    def totals(self):
        totals = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            totals[change.action] += 1
        return totals

    @property
    def has_writes(self):
        return any(c.action != "unchanged" for c in self.changes)


def _label(model, field_name):
    return str(model._meta.get_field(field_name).verbose_name)


def _differs(field_name, old, new):
    if field_name == "name":
        return name_key(old) != name_key(new)
    if old in (None, "") and new in (None, ""):
        return False
    return old != new


class _Differ:
    """Compares one object's fields, records the change and sets the new values."""

    def __init__(self, result):
        self.result = result

    def compare(self, level, path, obj, values, source=None, *, is_new=False):
        changes = []
        for field_name, new in values.items():
            old = None if is_new else getattr(obj, field_name)
            if is_new or _differs(field_name, old, new):
                if not is_new:
                    changes.append(FieldChange(field_name, _label(type(obj), field_name), old, new))
                setattr(obj, field_name, new)
        action = "new" if is_new else ("changed" if changes else "unchanged")
        self.result.changes.append(
            Change(action, level, path, changes, source, obj, dict(values) if is_new else None)
        )
        return action


@dataclass
class _Plan:
    """What the apply step has to do."""

    create: dict = field(default_factory=lambda: defaultdict(list))
    update: dict = field(default_factory=lambda: defaultdict(list))
    update_fields: dict = field(default_factory=lambda: defaultdict(set))
    delete: dict = field(default_factory=lambda: defaultdict(list))


def _figures_values(figures, prefix="declared_"):
    figures = figures or Figures()
    return {f"{prefix}{name}": getattr(figures, name) for name in Figures.FIELDS}


def import_plan(
    year,
    data: PlanData,
    *,
    dry_run=False,
    user=None,
    source="admin",
    batch=None,
    files=(),
    conflicts=(),
    reason="",
):
    """Preview (dry_run) or apply `data` as the plan of `year`, in one step, through the
    import runner (perfplan.imports.run). Atomic: all or nothing."""
    return imports.run(
        PLAN_TABLES,
        year,
        parsed=ReadSources(data, list(conflicts)),
        files=files,
        user=user,
        reason=reason,
        dry_run=dry_run,
        source=source,
        batch=batch,
    )


# ---------------------------------------------------------------- the import kinds


def _new_result(year, dry_run):
    return ImportResult(year=year, dry_run=dry_run)


def _read_tables(files, year):
    try:
        return ReadSources(read_plan_files(files)), []
    except TableReadError as exc:
        return None, list(exc.errors)


def _read_text(files, year):
    """The text of a published plan, alone (read_sources tells it by its name)."""
    try:
        sources = read_sources(files)
    except TableReadError as exc:
        return None, list(exc.errors)
    if sources.kind != "text":
        name = files[0][0] if files else ""
        error = _("expected the text of a published plan (.txt)")
        return None, [RowError(name, None, "", None, error)]
    return sources, []


def _diff_step(result, sources, job):
    """The runner's diff: lock the plan, compare, check amendments; nothing written."""
    result.conflicts = list(sources.conflicts)
    result.source_kind = sources.kind
    result.data = sources.data
    plan = Plan.objects.select_for_update().filter(fiscal_year=job.year).first()
    work = _diff(result, plan, job.year, sources.data)
    _amendments(result, work, plan, job.reason)
    work.existing_plan = plan
    work.data = sources.data
    return work


def _apply_step(result, work, job):
    """The runner's apply: write, then one change-log entry per written record."""
    batch = current_context().batch
    plan = _apply(work, work.existing_plan, job.year, work.data)
    result.plan = plan
    _log(result, plan, batch)


def fingerprint(result):
    """What the import would write, old and new values included: the confirmation must
    write exactly what the preview showed (any change of the file or of the plan since
    then changes it)."""
    digest = hashlib.sha256()
    for change in result.changes:
        if change.action == "unchanged":
            continue
        if change.action == "new":
            values = sorted((change.values or {}).items())
        else:
            values = [(f.field, f.old, f.new) for f in change.fields]
        digest.update(
            orjson.dumps(
                [change.action, change.level, change.path, values],
                default=_fingerprint_value,
            )
        )
    return digest.hexdigest()


def _fingerprint_value(value):
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def _summary(result, job):
    return {"counts": result.counts(), "conflicts": result.conflicts}


PLAN_TABLES = imports.register(
    imports.ImportKind(
        name="plan",
        read=_read_tables,
        new_result=_new_result,
        diff=_diff_step,
        apply=_apply_step,
        fingerprint=fingerprint,
        summary=_summary,
    )
)
PLAN_TEXT = imports.register(
    imports.ImportKind(
        name="plan_text",
        read=_read_text,
        new_result=_new_result,
        diff=_diff_step,
        apply=_apply_step,
        fingerprint=fingerprint,
        summary=_summary,
    )
)


# ---------------------------------------------------------------- diff


def _diff(result, plan, year, data):
    work = _Plan()
    differ = _Differ(result)
    existing = _load(plan)
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
    for pd_id in work.delete[PlanDepartment]:
        pd = existing["pd_by_id"][pd_id]
        result.changes.append(Change("deleted", "department", (pd.name,), obj=pd))
        _cascade_report(result, existing, pd)
    _protect_results(result, work, existing)
    return work


def _amendments(result, work, plan, reason):
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
    sync_hierarchy = data.has_hierarchy
    indicators_by_code = {ind.code: ind for ind in existing["indicators"] if ind.code}
    seen = {"sg": set(), "pg": set(), "ind": existing["kept_indicators"], "up": set()}
    for dd in data.departments:
        pd = dept_objects.get(name_key(dd.name))
        if pd is None:
            continue
        sg_existing = {name_key(sg.name): sg for sg in existing["sg_by_dept"].get(pd.pk, [])}
        for sg_index, sgd in enumerate(dd.strategic_goals):
            path = (dd.name, sgd.name)
            sg = sg_existing.get(name_key(sgd.name))
            if sg is None and not sync_hierarchy:
                result.errors.append(
                    RowError(
                        sgd.source.file,
                        sgd.source.row,
                        "",
                        sgd.name,
                        _(
                            "no such strategic goal in the plan; import the plan table with it first"
                        ),
                    )
                )
                continue
            if sync_hierarchy:
                values = {
                    "name": sgd.name,
                    "budget": sgd.budget,
                    "declared_share": sgd.share,
                    "position": sg_index,
                }
                is_new = sg is None
                if is_new:
                    sg = StrategicGoal(plan_department=pd)
                action = differ.compare(
                    "strategic_goal", path, sg, values, sgd.source, is_new=is_new
                )
                _schedule(work, StrategicGoal, sg, action, values)
            if sg.pk:
                seen["sg"].add(sg.pk)
            pg_existing = {name_key(pg.name): pg for pg in existing["pg_by_sg"].get(sg.pk, [])}
            for pg_index, pgd in enumerate(sgd.policy_goals):
                pg_path = path + (pgd.name,)
                pg = pg_existing.get(name_key(pgd.name)) if sg.pk else None
                if pg is None and not sync_hierarchy:
                    result.errors.append(
                        RowError(
                            pgd.source.file,
                            pgd.source.row,
                            "",
                            pgd.name,
                            _(
                                "no such policy program goal in the plan; import the plan table "
                                "with it first"
                            ),
                        )
                    )
                    continue
                if sync_hierarchy:
                    values = {"name": pgd.name, "position": pg_index}
                    is_new = pg is None
                    if is_new:
                        pg = PolicyGoal(strategic_goal=sg)
                    action = differ.compare(
                        "policy_goal", pg_path, pg, values, pgd.source, is_new=is_new
                    )
                    _schedule(work, PolicyGoal, pg, action, values)
                if pg.pk:
                    seen["pg"].add(pg.pk)
                if sync_hierarchy:
                    _diff_indicators(
                        result, differ, work, existing, pg, pgd, pg_path, indicators_by_code, seen
                    )
                if data.has_unit_programs:
                    _diff_unit_programs(differ, work, existing, pg, pgd, pg_path, seen)

    if sync_hierarchy:
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
                for pg in existing["pg_by_sg"].get(sg.pk, []):
                    path = (pd.name, sg.name)
                    if pg.pk not in seen["pg"]:
                        _cascade_pg(result, existing, path, pg)
                        result.changes.append(
                            Change("deleted", "policy_goal", path + (pg.name,), obj=pg)
                        )
                        work.delete[PolicyGoal].append(pg.pk)
                        continue
        for ind in existing["indicators"]:
            if ind.pk not in seen["ind"] and ind.policy_goal_id in seen["pg"]:
                result.changes.append(
                    Change("deleted", "indicator", _path_of(existing, ind), obj=ind)
                )
                work.delete[Indicator].append(ind.pk)
    if data.has_unit_programs:
        for up in existing["unit_programs"]:
            if up.pk not in seen["up"] and (up.policy_goal_id in seen["pg"] or not sync_hierarchy):
                result.changes.append(
                    Change("deleted", "unit_program", _path_of(existing, up), obj=up)
                )
                work.delete[UnitProgram].append(up.pk)


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


def _load(plan):
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


# ---------------------------------------------------------------- apply


def _apply(work, plan, year, data):
    plan = work.plan_obj
    if work.plan_changed:
        if plan.pk:
            plan.version += 1
        plan.save()
    # Leaves first; parents only after the writes, so that an indicator moved (by its
    # code) out of a deleted policy goal is re-parented before the cascade reaches it.
    _delete(work, (Indicator, UnitProgram))
    new_departments = work.create.get(PlanDepartment, [])
    identities = [pd for pd in new_departments if pd._new_identity]
    created = Department.objects.bulk_create(
        [Department(name=pd.name, code=pd._code or None) for pd in identities]
    )
    for pd, identity in zip(identities, created, strict=True):
        pd.department = identity
    for pd in new_departments:
        pd.plan = plan
    # Parents before children: bulk_create fills the primary keys the children point to.
    for model, parent in (
        (PlanDepartment, None),
        (StrategicGoal, "plan_department"),
        (PolicyGoal, "strategic_goal"),
        (Indicator, "policy_goal"),
        (UnitProgram, "policy_goal"),
    ):
        objects = work.create.get(model, [])
        if parent:
            for obj in objects:
                setattr(obj, parent, getattr(obj, parent))  # re-read the parent's new pk
        if objects:
            _bulk_create(model, objects)
        changed = work.update.get(model, [])
        if changed and hasattr(model, "version"):
            # An open edit form of any of these records is now stale (optimistic locking).
            for obj in changed:
                obj.version += 1
            work.update_fields[model].add("version")
        if changed:
            if parent and model is Indicator:
                cached = Indicator._meta.get_field("policy_goal").is_cached
                for obj in changed:
                    if cached(obj):  # else policy_goal_id is already the pk (no query per row)
                        obj.policy_goal = obj.policy_goal
            _bulk_update(model, changed, sorted(work.update_fields[model]))
    _delete(work, (PolicyGoal, StrategicGoal, PlanDepartment))
    # Written without signals: rewritten indicators' standings are outdated, new ones get
    # theirs, and every standing is filed where its indicator now is.
    standing.touch(obj.pk for obj in work.update.get(Indicator, []))
    standing.link_plan(plan)
    return plan


COPY_MIN = 1000  # fewer new records: bulk_create
# Values a field would store unchanged (get_db_prep_save is then skipped); others go through it.
_STORED_AS_IS = {
    "CharField": (str,),
    "TextField": (str,),
    "SmallIntegerField": (int,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "AutoField": (int,),
    "BigAutoField": (int,),
    "DecimalField": (Decimal,),
    "BooleanField": (bool,),
}


class _NoCopy(Exception):
    pass


def _bulk_create(model, objects):
    """model.objects.bulk_create(objects, batch_size=BULK_BATCH). On PostgreSQL a large list
    goes in with COPY instead, two to three times faster (as perfplan.changelog writes its
    entries): the primary keys are drawn from the table's sequence first, in the objects'
    order, as INSERT … RETURNING would have. Should COPY fail, bulk_create runs instead, so
    a refusal reads exactly as it would have."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if (
        connection.vendor != "postgresql"
        or len(objects) < COPY_MIN
        or meta.parents
        or list(meta.db_returning_fields) != [meta.pk]
        or not isinstance(meta.pk, AutoField)
        or any(f.generated or f.db_default is not NOT_PROVIDED for f in meta.concrete_fields)
        or any(obj._is_pk_set() for obj in objects)
    ):
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        return
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    as_is = [
        _STORED_AS_IS.get((f.target_field if f.is_relation else f).get_internal_type(), ())
        for f in fields
    ]
    try:
        rows = [_copy_row(obj, fields, as_is, connection) for obj in objects]
    except _NoCopy:
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in (meta.pk, *fields))
    try:
        with transaction.atomic(using=connection.alias), connection.wrap_database_errors:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) "
                    "ORDER BY 1",
                    [meta.db_table, meta.pk.column, len(objects)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row((pk, *row))
    except DatabaseError:
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        return
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _copy_row(obj, fields, as_is, connection):
    row = []
    for f, types in zip(fields, as_is, strict=True):
        value = f.pre_save(obj, True)
        kind = type(value)
        if value is None or (kind in types and (kind is not Decimal or value.is_finite())):
            row.append(value)
        elif hasattr(value, "resolve_expression"):
            raise _NoCopy
        else:
            row.append(f.get_db_prep_save(value, connection))
    return row


def _bulk_update(model, objects, field_names):
    """What model.objects.bulk_update(objects, field_names) writes, as one parametrised UPDATE
    per record sent with executemany: bulk_update's CASE WHEN per field and record costs
    seconds for a few thousand records, and the database time grows with the batch squared."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in fields),
        quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), BULK_BATCH):
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
                    + [meta.pk.get_db_prep_save(obj.pk, connection)]
                    for obj in objects[start : start + BULK_BATCH]
                ],
            )


def _delete(work, models):
    for model in models:
        ids = work.delete.get(model, [])
        for start in range(0, len(ids), BULK_BATCH):
            model.objects.filter(pk__in=ids[start : start + BULK_BATCH]).delete()


LEVEL_MODELS = {
    "plan": Plan,
    "department": PlanDepartment,
    "strategic_goal": StrategicGoal,
    "policy_goal": PolicyGoal,
    "indicator": Indicator,
    "unit_program": UnitProgram,
}
_LOG_ACTIONS = {"new": "create", "changed": "update", "deleted": "delete"}
_KEPT_AS_THEY_ARE = frozenset((str, int, bool, type(None)))


def _plain(value):
    """perfplan.changelog.plain, without the call for the values it returns unchanged."""
    return value if type(value) in _KEPT_AS_THEY_ARE else plain(value)


def _log(result, plan, batch):
    """One change-log entry per written record (the runner adds the import's own).

    Department and year come from the change's path, not from walking relations, so a
    national-scale import logs without a query per row; entries stream to the log as they
    are made (ChainWriter), never held all at once.
    """
    department_ids = dict(
        PlanDepartment.objects.filter(plan=plan).values_list("name", "department_id")
    )
    for change in result.changes:
        if change.level == "department" and change.action == "deleted":
            department_ids.setdefault(change.path[0], change.obj.department_id)
    types = {level: ContentType.objects.get_for_model(m).pk for level, m in LEVEL_MODELS.items()}
    with ChainWriter(batch=batch) as chain:
        chain.extend(_entries(result.changes, types, department_ids, plan.fiscal_year))


def _plain_new(value, kept):
    """plain() of a new record's value; a type plain() keeps (a str or int subclass, such
    as a choice) joins `kept`."""
    if type(value) is Decimal:
        return decimal_text(value)
    text = plain(value)
    if text is value:
        kept.add(type(value))
    return text


def _entries(changes, types, department_ids, year):
    """The log entries (ChainWriter.extend tuples) of the written changes."""
    kept = set(_KEPT_AS_THEY_ARE)  # and, once seen, str/int subclasses (choices)
    for change in changes:
        action = change.action
        if action == "unchanged":
            continue
        if action == "new":
            # plain() inlined: a national plan's new records bring a million values, most of
            # them str or int, kept as they are; blanks are not logged.
            fields = {
                name: [None, value if type(value) in kept else _plain_new(value, kept)]
                for name, value in (change.values or {}).items()
                if value is not None and value != ""
            }
        elif action == "changed":
            fields = {f.field: [_plain(f.old), _plain(f.new)] for f in change.fields}
        else:
            fields = {}
        obj, level, path = change.obj, change.level, change.path
        pk = obj.pk if obj is not None else None
        yield (
            _LOG_ACTIONS[action],
            types[level],
            "" if pk is None else str(pk),
            " › ".join(path)[:300],
            department_ids.get(path[0]) if level != "plan" else None,
            year,
            fields,
            "",
        )


def describe(result):
    """Lines for the command line: counts per level, then every error."""
    lines = []
    counts = result.counts()
    for level in LEVELS:
        row = counts[level]
        if any(row.values()):
            counts_text = ", ".join(f"{ACTION_LABELS[a]} {row[a]}" for a in ACTIONS)
            lines.append(f"{LEVEL_LABELS[level]}: {counts_text}")
    for conflict in result.conflicts:
        lines.append(_("Conflict: %(conflict)s") % {"conflict": conflict})
    for error in result.errors:
        lines.append(_("Error: %(error)s") % {"error": error})
    return lines
