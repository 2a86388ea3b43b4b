"""Reading a plan import's files: plan tables (xlsx/csv), or the text of a published plan."""

from __future__ import annotations

from django.utils.translation import gettext as _

from perfplan.tabular import RowError, TableReadError

from ..sources import ReadSources, read_sources
from ..tables import read_plan_files


def read_tables(files, year):
    """Plan tables: summary, hierarchy and unit programs, whichever the files hold."""
    try:
        return ReadSources(read_plan_files(files)), []
    except TableReadError as exc:
        return None, list(exc.errors)


def read_text(files, year):
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
