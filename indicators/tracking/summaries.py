"""Counts of tracking rows: by status, by achievement bucket, completeness and at risk, for
a set of rows or grouped by department, strategic goal or policy goal (Tally also adds up
stored standings, indicators.overview)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .rules import BUCKETS, HUNDRED, STATUS_LABELS, STATUSES, ZERO, bucket_of, rounded

BUCKET_KEYS = tuple(key for key, *_rest in BUCKETS)


def _percent(part, whole):
    if not whole:
        return None
    return rounded(Decimal(part) * HUNDRED / Decimal(whole))


class Tally:
    """summarize()'s counts, added one indicator at a time (rows, or stored standings)."""

    __slots__ = (
        "total",
        "by_status",
        "buckets",
        "due",
        "entered",
        "at_risk",
        "rate_sum",
        "rated",
        "sample",
    )

    def __init__(self):
        self.total = self.due = self.entered = self.at_risk = self.rated = self.sample = 0
        # a national overview makes a thousand of these: dict.fromkeys, not a comprehension
        self.by_status = dict.fromkeys(STATUSES, 0)
        self.buckets = dict.fromkeys(BUCKET_KEYS, 0)
        self.rate_sum = ZERO

    def count(self, status, rate, bucket, due, entered, at_risk):
        """Count one indicator."""
        self.total += 1
        self.by_status[status] += 1
        if bucket:
            self.buckets[bucket] += 1
        if rate is not None:
            self.rate_sum += rate
            self.rated += 1
        self.due += due
        self.entered += entered
        self.at_risk += at_risk

    def merge(self, total, by_status, buckets, due, entered, at_risk, rate_sum, rated, sample=0):
        """Add counts made elsewhere (the database's, from stored standings): by_status and
        buckets as counts in the order of STATUSES and BUCKETS; `sample`: how many show
        sample data."""
        self.total += total
        counts = self.by_status
        for status, count in zip(STATUSES, by_status, strict=True):
            counts[status] += count
        counts = self.buckets
        for bucket, count in zip(BUCKET_KEYS, buckets, strict=True):
            counts[bucket] += count
        self.due += due
        self.entered += entered
        self.at_risk += at_risk
        self.rate_sum += rate_sum
        self.rated += rated
        self.sample += sample

    def add(self, other):
        """Add another Tally's counts (a department's, from its goals')."""
        self.merge(
            other.total,
            other.by_status.values(),
            other.buckets.values(),
            other.due,
            other.entered,
            other.at_risk,
            other.rate_sum,
            other.rated,
            other.sample,
        )

    @property
    def mean_rate(self):
        """The mean achievement rate of the indicators that have one (2 decimals)."""
        return rounded(self.rate_sum / self.rated) if self.rated else None

    @property
    def completeness(self):
        """Of the periods that have ended, the % with a value (None when none has ended)."""
        return _percent(self.entered, self.due)

    def summary(self):
        by_status, buckets = self.by_status, self.buckets
        return {
            "total": self.total,
            "by_status": dict(by_status),
            "statuses": [
                {"key": s, "label": STATUS_LABELS[s], "count": by_status[s]} for s in STATUSES
            ],
            "buckets": [
                {"key": key, "label": label, "from": low, "below": below, "count": buckets[key]}
                for key, label, low, below in BUCKETS
            ],
            "rated": sum(buckets.values()),
            "completeness": {
                "due": self.due,
                "entered": self.entered,
                "percent": self.completeness,
            },
            "at_risk": self.at_risk,
        }


def summarize(rows):
    """Counts for a set of rows: by status, by achievement bucket, completeness, at risk.

    completeness (as DHIS2's reporting rate): of the periods that have ended, how many have
    a value — `due`, `entered` and `percent` (None when nothing is due yet).
    """
    tally = Tally()
    for row in rows:
        tally.count(
            row.status,
            row.rate,
            bucket_of(row.rate),
            row.due_count,
            row.entered_due_count,
            bool(row.forecast and row.forecast.at_risk),
        )
    return tally.summary()


def at_risk_rows(rows):
    """The early warning: rows projected to miss their annual target, worst first.

    The overview lists them from stored standings in SQL (indicators.overview), in this
    order; its tests compare the two."""
    risky = [r for r in rows if r.forecast and r.forecast.at_risk]
    return sorted(risky, key=lambda r: (r.forecast.rate is None, r.forecast.rate or ZERO))


@dataclass
class Group:
    key: object  # the PlanDepartment, StrategicGoal or PolicyGoal (or what a callable gave)
    rows: list
    summary: dict


GROUP_KEYS = {
    "department": lambda row: row.department,
    "strategic_goal": lambda row: row.strategic_goal,
    "policy_goal": lambda row: row.policy_goal,
}


def group_by(rows, key):
    """Rows grouped by "department", "strategic_goal", "policy_goal" or a callable(row).

    Groups keep the order in which they first appear (the plan's order); each carries
    its summarize() figures. The overview counts its lines from stored standings
    (indicators.overview); its tests compare them with these groups.
    """
    get = GROUP_KEYS[key] if isinstance(key, str) else key
    groups = defaultdict(list)
    order = []
    for row in rows:
        group_key = get(row)
        ident = (type(group_key), getattr(group_key, "pk", group_key))
        if ident not in groups:
            order.append((ident, group_key))
        groups[ident].append(row)
    return [Group(obj, groups[ident], summarize(groups[ident])) for ident, obj in order]
