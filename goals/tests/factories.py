"""Build plans for tests through the same importer admins use."""

import csv
import io
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.plan_data import (
    DepartmentData,
    Figures,
    IndicatorData,
    PlanData,
    PolicyGoalData,
    StrategicGoalData,
    UnitProgramData,
)
from perfplan.planfiles.tables import read_plan_files

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SEED_FILES = ("seed_plan_summary.csv", "seed_plan_hierarchy.csv")


def seed_files():
    return [(name, (FIXTURES / name).read_bytes()) for name in SEED_FILES]


def load_seed(year=2026):
    result = import_plan(year, read_plan_files(seed_files()))
    assert result.ok, result.errors
    return result.plan


def seed_rows(name="seed_plan_hierarchy.csv"):
    text = (FIXTURES / name).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def synthetic_plan(departments=3, goals=2, policy_goals=2, indicators=2, unit_programs=0):
    data = PlanData(has_summary=True, has_hierarchy=True, has_unit_programs=bool(unit_programs))
    for d in range(departments):
        dept = DepartmentData(
            name=f"부서{d:03d}",
            declared=Figures(
                goals,
                goals * policy_goals,
                goals * policy_goals * indicators,
                goals * policy_goals * unit_programs,
                Decimal(1000 + d),
                Decimal(900 + d),
                Decimal(100),
            ),
        )
        for g in range(goals):
            sg = StrategicGoalData(name=f"전략목표 {d}-{g}", budget=Decimal(100 + g))
            for p in range(policy_goals):
                pg = PolicyGoalData(name=f"정책사업목표 {d}-{g}-{p}")
                pg.indicators = [
                    IndicatorData(name=f"지표 {d}-{g}-{p}-{i}") for i in range(indicators)
                ]
                pg.unit_programs = [
                    UnitProgramData(
                        name=f"단위사업 {d}-{g}-{p}-{u}",
                        budget=Decimal(10),
                        prior_budget=Decimal(8),
                    )
                    for u in range(unit_programs)
                ]
                sg.policy_goals.append(pg)
            dept.strategic_goals.append(sg)
        data.departments.append(dept)
    data.total = Figures(budget=Decimal(1000 * departments))
    return data


def make_plan(year=2030, **sizes):
    result = import_plan(year, synthetic_plan(**sizes))
    assert result.ok, result.errors
    return result.plan
