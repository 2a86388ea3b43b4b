"""Deployment checks of our own, beside Django's (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

LOCAL_MEMORY = "django.core.cache.backends.locmem.LocMemCache"


@register(Tags.caches, deploy=True)
def shared_cache(app_configs, **kwargs):
    """Production runs several server processes: a per-process cache would keep each one's
    public pages after a change, and count the API's throttle per process."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend != LOCAL_MEMORY:
        return []
    return [
        Warning(
            "Django's cache is each server process's own (local memory): with several "
            "processes a change reaches only the one that made it.",
            hint="Set PERFPLAN_CACHE=database and run `manage.py createcachetable` "
            "(README: Running in production).",
            id="perfplan.W001",
        )
    ]


@register(deploy=True)
def workbook_library(app_configs, **kwargs):
    """Exports are written by libxlsxwriter where it is installed (perfplan.xlsx)."""
    from perfplan.xlsx import AUTO, XLSXWRITER, xlsx_engine

    try:
        engine = xlsx_engine()
    except RuntimeError as exc:  # named, but not installed: every export would fail
        return [
            Error(
                str(exc),
                hint="apt-get install -y libxlsxwriter4, or PERFPLAN_XLSX_ENGINE=auto.",
                id="perfplan.E001",
            )
        ]
    if engine == XLSXWRITER and settings.PERFPLAN_XLSX_ENGINE == AUTO:
        return [
            Warning(
                "libxlsxwriter is not installed: workbooks are written by XlsxWriter, about "
                "three times slower a cell (a national plan's export 6-9 s instead of 3 s).",
                hint="apt-get install -y libxlsxwriter4 (README: Running in production).",
                id="perfplan.W002",
            )
        ]
    return []
