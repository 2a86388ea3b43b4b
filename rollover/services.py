"""Next year's plan from this one (roll-forward), as a kind of the one import runner.

`roll_plan(from_plan, to_year, target_rule, user)` copies the plan's departments, strategic
goals, policy goals, indicators (definitions and codes) and unit programs into the plan of
`to_year`; each indicator's 전년도실적/기준치 (baseline) is this year's year-end value as the
tracking services compute it (indicators.tracking: by the indicator's aggregation, over the
periods entered), and its target is left empty or proposed by a rule:

* ``empty``: no target;
* ``same``: this year's annual target (and target range);
* ``baseline+N%``: the baseline improved by N % in the indicator's direction (higher is
  better: × (1 + N/100), lower is better: × (1 − N/100)); a range indicator keeps its range.

Each copy records its predecessor (Indicator.predecessor), so the years of an indicator are
followed through the links. The roll runs through perfplan.imports like every import: its
request (a small JSON file: from, to, targets) is stored with the preview and the
fingerprint of what it would write; the confirmation diffs again and writes only what the
preview showed, in one transaction, with one change-log entry per record and one for the
roll.

Matching is by natural keys, as the plan importer matches: a department by its identity
(perfplan.Department), goals and unit programs by name under their parent, an indicator by
its predecessor link, else its code, else its name under its policy goal. A record the next
year's plan already has is never overwritten: only its blanks are filled (baseline, target,
predecessor, prior-year budget). So re-running the roll changes nothing, and importing next
year's plan tables afterwards updates the rolled plan in place (the importer matches the same
names and codes, and leaves the predecessor links as they are).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import orjson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators import standing
from indicators.models import Direction, Indicator
from indicators.tracking.rows import tracking_rows
from perfplan import bulk, imports
from perfplan.changelog import draft_for, record_many
from perfplan.models import Plan
from perfplan.scoping import sees_all
from perfplan.tabular import name_key

KIND_NAME = "rollover"
SOURCE = "rollover"
REQUEST_FILE = "roll_plan.json"

RULE_EMPTY = "empty"
RULE_SAME = "same"
RULE_BASELINE = "baseline"
_BASELINE_RULE = re.compile(r"^(?:baseline|기준치)\s*\+\s*(-?\d+(?:\.\d+)?)\s*%?$", re.IGNORECASE)

LEVELS = ("plan", "department", "strategic_goal", "policy_goal", "indicator", "unit_program")
LEVEL_LABELS = {
    "plan": gettext_lazy("plan"),
    "department": gettext_lazy("department"),
    "strategic_goal": gettext_lazy("strategic goal"),
    "policy_goal": gettext_lazy("policy program goal"),
    "indicator": gettext_lazy("performance indicator"),
    "unit_program": gettext_lazy("unit program"),
}
ACTIONS = ("new", "changed", "unchanged")
ACTION_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "unchanged": gettext_lazy("unchanged"),
}
# What a copy of an indicator takes over as it is: its definition.
DEFINITION_FIELDS = (
    "code",
    "name",
    "position",
    "unit",
    "direction",
    "lower_is_better_method",
    "indicator_type",
    "formula",
    "data_source",
    "weight",
    "frequency",
    "aggregation",
    "is_sample",
)
TARGET_FIELDS = ("annual_target", "target_min", "target_max")
PLAN_SETTINGS = (
    "threshold_achieved",
    "threshold_caution",
    "entry_deadline_days",
    "reminder_days",
    "allow_self_review",
)
VALUE_PLACES = Decimal("0.0001")


class RollError(ValueError):
    """A roll that cannot be asked for (bad target rule, same year…): the message says why."""


@dataclass(frozen=True)
class TargetRule:
    name: str  # empty, same, baseline
    percent: Decimal | None = None

    def __str__(self):
        if self.name == RULE_BASELINE:
            return f"baseline+{format(self.percent.normalize(), 'f')}%"
        return self.name


def parse_target_rule(text):
    """A TargetRule from `same`, `empty` or `baseline+N%` (기준치+N% too)."""
    text = (text or RULE_EMPTY).strip()
    if text.lower() in (RULE_EMPTY, RULE_SAME):
        return TargetRule(text.lower())
    match = _BASELINE_RULE.match(text)
    if match:
        try:
            percent = Decimal(match.group(1))
        except InvalidOperation:
            percent = None
        if percent is not None and Decimal(-100) < percent <= Decimal(1000):
            return TargetRule(RULE_BASELINE, percent)
    raise RollError(
        _("unknown target rule %(rule)s: write same, empty or baseline+N%% (e.g. baseline+5%%)")
        % {"rule": text}
    )


@dataclass
class RollChange(imports.NamedChange):
    action: str
    level: str
    path: tuple
    fields: list = field(default_factory=list)  # (field name, old, new) of a changed record
    obj: object = None
    values: dict | None = None  # what a new record is created with (parents by path)

    LEVEL_LABELS, ACTION_LABELS = LEVEL_LABELS, ACTION_LABELS

    @property
    def filled(self):
        """(label, new value) of the blanks a changed record gets, for the preview."""
        meta = type(self.obj)._meta
        return [(meta.get_field(name).verbose_name, new) for name, _old, new in self.fields]


@dataclass
class RollResult(imports.CountedChanges):
    year: int
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    batch: object = None
    plan: Plan | None = None
    from_year: int | None = None
    rule: str = ""
    partial_years: int = 0  # baselines from a year not entered in full

    LEVELS, ACTIONS = LEVELS, ACTIONS

    def shown_changes(self):
        return [c for c in self.changes if c.action != "unchanged"]


@dataclass(frozen=True)
class RollRequest:
    from_year: int
    to_year: int
    rule: TargetRule


def request_files(from_year, to_year, target_rule):
    """The roll's request as the one file the import runner stores with the preview."""
    rule = target_rule if isinstance(target_rule, TargetRule) else parse_target_rule(target_rule)
    payload = {"from": int(from_year), "to": int(to_year), "targets": str(rule)}
    return [(REQUEST_FILE, json.dumps(payload, sort_keys=True).encode())]


# ---------------------------------------------------------------- the runner's steps


def _read(files, year):
    try:
        payload = json.loads(bytes(files[0][1]).decode())
        from_year, to_year = int(payload["from"]), int(payload["to"])
        rule = parse_target_rule(str(payload.get("targets", RULE_EMPTY)))
    except RollError as exc:
        return None, [imports.ImportProblem(str(exc), file=REQUEST_FILE)]
    except (IndexError, KeyError, TypeError, ValueError, UnicodeDecodeError):
        problem = _("not a roll-forward request (roll_plan.json with from, to and targets)")
        return None, [imports.ImportProblem(problem, file=REQUEST_FILE)]
    if to_year != year:
        problem = _("the request is for %(to)s, not %(year)s") % {"to": to_year, "year": year}
        return None, [imports.ImportProblem(problem, file=REQUEST_FILE)]
    return RollRequest(from_year, to_year, rule), []


def request_of(batch):
    """The RollRequest a stored preview holds (None if it holds none)."""
    files = [(f.name, bytes(f.content)) for f in batch.files.all()]
    request, errors = _read(files, batch.fiscal_year) if files else (None, [])
    return None if errors else request


def _new_result(year, dry_run):
    return RollResult(year=year, dry_run=dry_run)


def may_roll(user):
    if user is None or not getattr(user, "pk", None):
        return True  # a command, run by the operator
    return user.has_perm("perfplan.add_plan") and sees_all(user, "change")


def _refusal(request, job, source, target):
    """Why the roll cannot be made at all, or None."""
    params = {"from": request.from_year, "to": request.to_year}
    if not may_roll(job.user):
        return _("Only a plan admin can make next year's plan from this one.")
    if request.to_year <= request.from_year:
        return _("The new plan's year (%(to)s) must come after %(from)s.") % params
    if source is None:
        return _("There is no %(from)s plan to roll forward.") % params
    if target is not None and target.published_at is not None:
        return (
            _("The %(to)s plan is published: rolling into it would change it without a reason.")
            % params
        )
    return None


def _diff(result, request, job):
    """Compare the plan of `from_year` with the plan of `to_year`; writes nothing."""
    result.from_year = request.from_year
    result.rule = str(request.rule)
    source = Plan.objects.filter(fiscal_year=request.from_year).first()
    target = Plan.objects.select_for_update().filter(fiscal_year=request.to_year).first()
    refusal = _refusal(request, job, source, target)
    if refusal:
        result.errors.append(imports.ImportProblem(refusal))
        return None
    work = _Walk(result, request, source, target)
    work.run()
    return work


def _apply(result, work, job):
    plan = work.target
    if plan.pk is None:
        plan.save()
    for pd in work.create[PlanDepartment]:
        pd.plan = plan
    for model, parent in (
        (PlanDepartment, "plan"),
        (StrategicGoal, "plan_department"),
        (PolicyGoal, "strategic_goal"),
        (Indicator, "policy_goal"),
        (UnitProgram, "policy_goal"),
    ):
        objects = work.create[model]
        for obj in objects:
            setattr(obj, parent, getattr(obj, parent))  # the parent's pk, known now
        if objects:
            bulk.create_objects(model, objects)
        changed = work.update[model]
        if changed:
            names = sorted(work.update_fields[model])
            if hasattr(model, "version"):
                for obj in changed:
                    obj.version += 1
                names.append("version")
            bulk.update_objects(model, changed, names)
    standing.touch(obj.pk for obj in work.update[Indicator])
    standing.link_plan(plan)
    result.plan = plan
    drafts = []
    for change in result.changes:
        if change.action == "new":
            values = {k: (None, v) for k, v in (change.values or {}).items() if v not in (None, "")}
            drafts.append(draft_for(change.obj, "create", values))
        elif change.action == "changed":
            drafts.append(draft_for(change.obj, "update", {f: (o, n) for f, o, n in change.fields}))
    record_many(drafts)


def fingerprint(result):
    """What the roll would write: the confirmation must write exactly what was previewed."""
    digest = hashlib.sha256()
    for change in result.changes:
        if change.action == "unchanged":
            continue
        values = sorted((change.values or {}).items()) if change.action == "new" else change.fields
        digest.update(orjson.dumps([change.action, change.level, change.path, values], default=str))
    return digest.hexdigest()


def _summary(result, job):
    return {"counts": result.totals(), "from": result.from_year, "targets": result.rule}


ROLLOVER = imports.register(
    imports.ImportKind(
        name=KIND_NAME,
        read=_read,
        new_result=_new_result,
        diff=_diff,
        apply=_apply,
        fingerprint=fingerprint,
        summary=_summary,
    )
)


# ---------------------------------------------------------------- the ways in


def _year_of(plan_or_year):
    return plan_or_year.fiscal_year if isinstance(plan_or_year, Plan) else int(plan_or_year)


def roll_plan(from_plan, to_year, target_rule, user, *, dry_run=False, source="command"):
    """Roll `from_plan` (a Plan or its year) into the plan of `to_year` in one step: the diff
    and the writes in one transaction (dry_run: the diff only). A RollResult."""
    files = request_files(_year_of(from_plan), to_year, target_rule)
    return imports.run(
        ROLLOVER, int(to_year), files=files, user=user, dry_run=dry_run, source=source
    )


def preview_roll(from_plan, to_year, target_rule, user, *, source="admin"):
    """The roll's preview, stored for its confirmation (result.batch) as an import's is."""
    files = request_files(_year_of(from_plan), to_year, target_rule)
    return imports.preview(ROLLOVER, int(to_year), files, user=user, source=source)


def confirm_roll(batch, user):
    """Write a stored preview: only if the roll would still write exactly what it showed."""
    return imports.confirm(batch, user=user)


def describe(result):
    """Lines for the command line: counts per level, then every error."""
    lines = []
    counts = result.counts()
    for level in LEVELS:
        row = counts[level]
        if any(row.values()):
            text = ", ".join(f"{ACTION_LABELS[a]} {row[a]}" for a in ACTIONS)
            lines.append(f"{LEVEL_LABELS[level]}: {text}")
    if result.partial_years:
        lines.append(partial_note(result))
    for error in result.errors:
        lines.append(_("Error: %(error)s") % {"error": error})
    return lines


def partial_note(result):
    return _(
        "%(count)s baselines come from a year not entered in full (the periods entered so far)."
    ) % {"count": result.partial_years}


# ---------------------------------------------------------------- the walk


def year_end_values(plan):
    """Each indicator's year-end value (the tracking services' year-to-date value at the
    end of the plan's year, by its aggregation) and whether every period has a value."""
    end = date(plan.fiscal_year + 1, 1, 1)
    rows = tracking_rows(Indicator.objects.in_plan(plan), plan, end, people=False)
    return {
        row.indicator.pk: (row.ytd_actual, all(c.value is not None for c in row.cells))
        for row in rows
    }


def proposed_targets(indicator, baseline, rule):
    """The next year's annual target, range from and range to, by `rule`."""
    if rule.name == RULE_SAME:
        return tuple(getattr(indicator, name) for name in TARGET_FIELDS)
    if rule.name != RULE_BASELINE:
        return (None, None, None)
    if indicator.direction == Direction.RANGE:
        return (None, indicator.target_min, indicator.target_max)
    if baseline is None:
        return (None, None, None)
    step = rule.percent / 100
    factor = 1 - step if indicator.direction == Direction.LOWER else 1 + step
    places = max(1, min(4, -baseline.normalize().as_tuple().exponent))
    target = (baseline * factor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return (target, None, None)


def _load_target(plan):
    """The next year's plan as it is, keyed by natural keys (empty for a new plan)."""
    keys = {
        "pd": {},
        "sg": {},
        "pg": {},
        "up": {},
        "ind_by_pred": {},
        "ind_by_code": {},
        "ind_by_name": {},
    }
    if plan is None:
        return keys
    pds = {pd.pk: pd for pd in PlanDepartment.objects.filter(plan=plan)}
    for pd in pds.values():
        keys["pd"][pd.department_id] = pd
    sgs = {}
    for sg in StrategicGoal.objects.filter(plan_department__plan=plan):
        sg.plan_department = pds[sg.plan_department_id]
        sgs[sg.pk] = sg
        keys["sg"][(sg.plan_department_id, name_key(sg.name))] = sg
    pgs = {}
    for pg in PolicyGoal.objects.in_plan(plan):
        pg.strategic_goal = sgs[pg.strategic_goal_id]
        pgs[pg.pk] = pg
        keys["pg"][(pg.strategic_goal_id, name_key(pg.name))] = pg
    for ind in Indicator.objects.in_plan(plan).order_by("pk"):
        ind.policy_goal = pgs[ind.policy_goal_id]
        if ind.predecessor_id:
            keys["ind_by_pred"][ind.predecessor_id] = ind
        if ind.code:
            keys["ind_by_code"].setdefault(ind.code, ind)
        keys["ind_by_name"][(ind.policy_goal_id, name_key(ind.name))] = ind
    for up in UnitProgram.objects.in_plan(plan):
        up.policy_goal = pgs[up.policy_goal_id]
        keys["up"][(up.policy_goal_id, name_key(up.name))] = up
    return keys


def _load_source(plan):
    """The plan being rolled: its hierarchy in the plan's order, children by parent."""
    children = defaultdict(list)
    departments = list(PlanDepartment.objects.filter(plan=plan).order_by("position", "pk"))
    for sg in StrategicGoal.objects.filter(plan_department__plan=plan).order_by("position", "pk"):
        children[("sg", sg.plan_department_id)].append(sg)
    for pg in PolicyGoal.objects.in_plan(plan).order_by("position", "pk"):
        children[("pg", pg.strategic_goal_id)].append(pg)
    for ind in Indicator.objects.in_plan(plan).order_by("position", "pk"):
        children[("ind", ind.policy_goal_id)].append(ind)
    for up in UnitProgram.objects.in_plan(plan).order_by("position", "pk"):
        children[("up", up.policy_goal_id)].append(up)
    return departments, children


class _Walk:
    """One pass over the plan being rolled: each record matched in the next year's plan by
    its natural key, created when missing, its blanks filled when found."""

    def __init__(self, result, request, source, target):
        self.result, self.rule = result, request.rule
        self.source = source
        self.target = target or _new_plan(source, request.to_year)
        self.is_new_plan = target is None
        self.keys = _load_target(target)
        self.year_end = year_end_values(source)
        self.claimed = set()  # target indicators already matched
        self.create = defaultdict(list)
        self.update = defaultdict(list)
        self.update_fields = defaultdict(set)

    def run(self):
        year = str(self.target.fiscal_year)
        if self.is_new_plan:
            values = {"fiscal_year": self.target.fiscal_year, "title": self.target.title}
            values.update({name: getattr(self.target, name) for name in PLAN_SETTINGS})
            self.result.changes.append(RollChange("new", "plan", (year,), [], self.target, values))
        else:
            self.result.changes.append(RollChange("unchanged", "plan", (year,), [], self.target))
        departments, children = _load_source(self.source)
        for spd in departments:
            tpd = self.department(spd)
            for ssg in children[("sg", spd.pk)]:
                tsg = self.goal(StrategicGoal, "sg", tpd, ssg, (tpd.name,))
                for spg in children[("pg", ssg.pk)]:
                    path = (tpd.name, tsg.name)
                    tpg = self.goal(PolicyGoal, "pg", tsg, spg, path)
                    path = (*path, tpg.name)
                    for sind in children[("ind", spg.pk)]:
                        self.indicator(tpg, sind, path)
                    for sup in children[("up", spg.pk)]:
                        self.unit_program(tpg, sup, path)

    # -------------------------------------------------------- records

    def record(self, level, path, obj, values, *, is_new):
        """Record the change of `obj`: new with `values`, or its blanks filled from them."""
        if is_new:
            for name, value in values.items():
                setattr(obj, name, value)
            shown = {k: getattr(v, "pk", v) for k, v in values.items()}
            self.result.changes.append(RollChange("new", level, path, [], obj, shown))
            self.create[type(obj)].append(obj)
            return
        filled = []
        for name, value in values.items():
            # A foreign key is read by its id: no query for the related row.
            current = getattr(obj, obj._meta.get_field(name).attname)
            if value is None or current not in (None, ""):
                continue
            filled.append((name, None, getattr(value, "pk", value)))
            setattr(obj, name, value)
            self.update_fields[type(obj)].add(name)
        action = "changed" if filled else "unchanged"
        self.result.changes.append(RollChange(action, level, path, filled, obj))
        if filled:
            self.update[type(obj)].append(obj)

    def department(self, spd):
        tpd = self.keys["pd"].get(spd.department_id)
        is_new = tpd is None
        if is_new:
            tpd = PlanDepartment(plan=self.target, department_id=spd.department_id)
            values = {"name": spd.name, "position": spd.position}
        else:
            values = {}
        values["declared_prior_budget"] = spd.declared_budget
        self.record("department", (spd.name if is_new else tpd.name,), tpd, values, is_new=is_new)
        return tpd

    def goal(self, model, key, parent, item, path):
        found = self.keys[key].get((parent.pk, name_key(item.name))) if parent.pk else None
        level = "strategic_goal" if model is StrategicGoal else "policy_goal"
        if found is not None:
            self.result.changes.append(
                RollChange("unchanged", level, (*path, found.name), [], found)
            )
            return found
        parent_field = "plan_department" if model is StrategicGoal else "strategic_goal"
        obj = model(**{parent_field: parent})
        values = {"name": item.name, "position": item.position}
        self.record(level, (*path, item.name), obj, values, is_new=True)
        return obj

    def match_indicator(self, tpg, sind):
        keys = self.keys
        for found in (
            keys["ind_by_pred"].get(sind.pk),
            keys["ind_by_code"].get(sind.code) if sind.code else None,
            keys["ind_by_name"].get((tpg.pk, name_key(sind.name))) if tpg.pk else None,
        ):
            if found is not None and found.pk not in self.claimed:
                if found.predecessor_id in (None, sind.pk):
                    return found
        return None

    def indicator(self, tpg, sind, path):
        baseline, complete = self.year_end.get(sind.pk, (None, False))
        if baseline is not None:
            baseline = baseline.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)
            self.result.partial_years += not complete
        targets = proposed_targets(sind, baseline, self.rule)
        found = self.match_indicator(tpg, sind)
        if found is None:
            obj = Indicator(policy_goal=tpg)
            values = {name: getattr(sind, name) for name in DEFINITION_FIELDS}
            values.update(baseline=baseline, predecessor=sind)
            values.update(zip(TARGET_FIELDS, targets, strict=True))
            self.record("indicator", (*path, sind.name), obj, values, is_new=True)
            return
        self.claimed.add(found.pk)
        values = {"predecessor": sind, "baseline": baseline}
        if all(getattr(found, name) is None for name in TARGET_FIELDS):
            values.update(zip(TARGET_FIELDS, targets, strict=True))
        owner = found.policy_goal
        where = (owner.strategic_goal.plan_department.name, owner.strategic_goal.name, owner.name)
        self.record("indicator", (*where, found.name), found, values, is_new=False)

    def unit_program(self, tpg, sup, path):
        found = self.keys["up"].get((tpg.pk, name_key(sup.name))) if tpg.pk else None
        is_new = found is None
        obj = UnitProgram(policy_goal=tpg) if is_new else found
        values = {"prior_budget": sup.budget}
        if is_new:
            values = {"code": sup.code, "name": sup.name, "position": sup.position, **values}
        self.record("unit_program", (*path, sup.name), obj, values, is_new=is_new)


def _new_plan(source, year):
    title = source.title.replace(str(source.fiscal_year), str(year)) if source.title else ""
    plan = Plan(fiscal_year=year, title=title)
    for name in PLAN_SETTINGS:
        setattr(plan, name, getattr(source, name))
    return plan
