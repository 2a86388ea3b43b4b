"""Sample texts for a closed sample year's results report (the demo), marked 예시 데이터.

`write_sample_texts(plan)` writes, for every indicator of the plan without a text, an
approved sample text (a shortfall reason where the indicator's status requires one, an
improvement plan for all), then marks the report final (as sample data). Like the sample
results (indicators.demo), they are demo data written as approved, each save logged with
the demo's reason; real texts already written are left alone.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from indicators.demo import SAMPLE_REASON
from indicators.models import Indicator, ResultStatus
from indicators.tracking.rules import MISSING
from perfplan.changelog import change_context

from .models import ResultsReport, ResultText
from .report import plan_rows
from .texts import missing_reasons, requires_reason

SAMPLE_MARK = "[예시 데이터]"
SHORTFALL_SAMPLE = (
    f"{SAMPLE_MARK} 연간 목표치에 미달하였습니다(달성률 {{rate}}). 사업 추진 일정이 "
    "지연되고 대상자 참여가 예상보다 적었던 것이 주된 원인입니다."
)
MISSING_SAMPLE = (
    f"{SAMPLE_MARK} 일부 기간의 실적이 집계되지 않아 달성 여부를 판단할 수 없습니다. "
    "자료 제공 기관의 통계 공표가 늦어진 것이 원인입니다."
)
IMPROVEMENT_SAMPLE = (
    f"{SAMPLE_MARK} 분기별 추진 상황 점검을 강화하고, 부진 원인을 사업 계획에 반영하여 "
    "다음 연도 목표를 달성하겠습니다."
)


def _sample_text(row):
    from indicators.formats import fmt_rate

    reason = ""
    if requires_reason(row.status):
        if row.status == MISSING:
            reason = MISSING_SAMPLE
        else:
            reason = SHORTFALL_SAMPLE.format(rate=fmt_rate(row.rate) or "—")
    return reason, IMPROVEMENT_SAMPLE


def write_sample_texts(plan, today=None):
    """Sample texts for `plan`'s indicators, approved, and the report marked final (sample
    data). Returns how many texts were written. Meant for a closed year: its statuses are
    the year-end ones."""
    today = today or timezone.localdate()
    rows = plan_rows(plan, Indicator.objects.in_plan(plan), today)
    existing = set(ResultText.objects.in_plan(plan).values_list("indicator_id", flat=True))
    now = timezone.now()
    written = 0
    with transaction.atomic(), change_context(reason=SAMPLE_REASON):
        for row in rows:
            if row.indicator.pk in existing:
                continue
            reason, plan_text = _sample_text(row)
            ResultText.objects.create(
                indicator=row.indicator,
                shortfall_reason=reason,
                improvement_plan=plan_text,
                status=ResultStatus.APPROVED,
                is_sample=True,
                submitted_at=now,
                reviewed_at=now,
            )
            written += 1
        texts = {t.indicator_id: t for t in ResultText.objects.in_plan(plan)}
        report, _created = ResultsReport.objects.get_or_create(plan=plan)
        if not report.is_final and not missing_reasons(rows, texts):
            report.is_final = True
            report.is_sample = True
            report.finalized_at = now
            report.save()
    return written
