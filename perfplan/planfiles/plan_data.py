"""The plan as read from a source, before it touches the database.

Every reader (plan-table files, PDF text) produces a PlanData; the importer diffs it against
the database and writes it. Names are kept exactly as the source prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class SourceRef:
    """Where an entry came from, for error messages: file name and 1-based row (or line)."""

    file: str = ""
    row: int | None = None


@dataclass
class Figures:
    """One row of table 가 (declared) or its computed counterpart."""

    strategic_goals: int | None = None
    policy_goals: int | None = None
    indicators: int | None = None
    unit_programs: int | None = None
    budget: Decimal | None = None
    prior_budget: Decimal | None = None
    change: Decimal | None = None

    FIELDS = (
        "strategic_goals",
        "policy_goals",
        "indicators",
        "unit_programs",
        "budget",
        "prior_budget",
        "change",
    )

    def as_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}


@dataclass
class IndicatorData:
    name: str
    code: str = ""
    # Definition columns by model field name (unit, direction, annual_target, …); only the
    # columns the source has, so an import never blanks what it does not carry.
    attributes: dict = field(default_factory=dict)
    source: SourceRef = field(default_factory=SourceRef)


@dataclass
class UnitProgramData:
    name: str
    code: str = ""
    budget: Decimal | None = None
    prior_budget: Decimal | None = None
    source: SourceRef = field(default_factory=SourceRef)


@dataclass
class PolicyGoalData:
    name: str
    indicators: list[IndicatorData] = field(default_factory=list)
    unit_programs: list[UnitProgramData] = field(default_factory=list)
    source: SourceRef = field(default_factory=SourceRef)


@dataclass
class StrategicGoalData:
    name: str
    budget: Decimal | None = None
    share: Decimal | None = None
    policy_goals: list[PolicyGoalData] = field(default_factory=list)
    source: SourceRef = field(default_factory=SourceRef)


@dataclass
class DepartmentData:
    name: str
    code: str = ""
    declared: Figures | None = None
    strategic_goals: list[StrategicGoalData] = field(default_factory=list)
    source: SourceRef = field(default_factory=SourceRef)


@dataclass
class PlanData:
    """What a source says about one plan.

    has_summary: the source carries table 가 (departments' declared figures and the total);
    has_hierarchy: it carries table 나 (the goal hierarchy);
    has_unit_programs: it names unit programs.
    A part the source does not carry is left as it is in the database.
    """

    departments: list[DepartmentData] = field(default_factory=list)
    total: Figures | None = None
    has_summary: bool = False
    has_hierarchy: bool = False
    has_unit_programs: bool = False
    # What the reader saw but the import does not show (hidden rows and columns…), in Korean.
    warnings: list[str] = field(default_factory=list)

    def department(self, name):
        for dept in self.departments:
            if dept.name == name:
                return dept
        return None
