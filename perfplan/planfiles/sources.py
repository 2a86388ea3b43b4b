"""Any plan source an admin may upload: plan-table files, or the text of a published PDF."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from perfplan.tabular import TableReadError, check_size, is_table_text

from .plan_data import PlanData
from .tables import read_plan_files

TEXT_SUFFIXES = (".txt",)


@dataclass
class ReadSources:
    data: PlanData
    conflicts: list = field(default_factory=list)
    kind: str = "tables"  # or "text"


def is_plan_text(name, data=None):
    """A .txt is a published plan's text, unless it holds a table (Excel's "유니코드 텍스트",
    UTF-16, or tab-separated text), which is read as plan tables."""
    return name.lower().endswith(TEXT_SUFFIXES) and not (data and is_table_text(data))


def read_sources(files):
    """[(name, bytes)] into a PlanData. Raises TableReadError listing every problem."""
    texts = [(n, d) for n, d in files if is_plan_text(n, d)]
    if not texts:
        return ReadSources(read_plan_files(files))
    if len(files) > 1:
        raise TableReadError.of_file(
            texts[0][0],
            _("a plan text holds the whole plan: upload it alone, without other files"),
        )
    from .plan_text import PlanTextError, parse_plan_text

    name, content = texts[0]
    check_size(name, content)
    try:
        parsed = parse_plan_text(content, name)
    except PlanTextError as exc:
        raise TableReadError.of_file(name, str(exc)) from None
    return ReadSources(parsed.plan, list(parsed.conflicts), "text")
