"""The public pages' cache: whole responses (bodies) in Django's cache framework.

Keys carry the plan year, the language and a generation per year: every write to the
change log commits with the years it touched (perfplan.changelog.entries_committed), and
each such year's generation moves on, so a plan published or amended, a result approved
or reopened (or anything else of that year changed) is read again on the next request.
The list of plans has a generation of its own that moves with any year; entries of no
year move a generation every page's key carries. Nothing is
deleted: old keys expire (TIMEOUT). With several server processes the cache must be
shared (CACHES: Redis, Memcached or the database), as Django's local-memory cache is not.
"""

from __future__ import annotations

from django.core.cache import cache

TIMEOUT = 24 * 3600
PREFIX = "public:"
PLAN_LIST = "list"  # the list page's year
SHARED = "shared"  # entries of no year (a department's code): every page


def _generation_key(year):
    return f"{PREFIX}gen:{year}"


def generation(year):
    """The current generation of `year` (a number that only grows while cached)."""
    key = _generation_key(year)
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, None)
        value = cache.get(key, 1)
    return value


def bump(year):
    key = _generation_key(year)
    try:
        cache.incr(key)
    except ValueError:  # not cached yet: any new value differs from what a page was kept under
        cache.set(key, 2, None)


def page_key(year, language, *parts):
    """A page's key: `year`'s generation and the shared one (entries of no year)."""
    return ":".join(
        [f"{PREFIX}{year}", str(generation(year)), str(generation(SHARED)), language]
        + [str(p) for p in parts]
    )


def cached(key, build):
    """The value kept under `key`, else build() kept there."""
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, TIMEOUT)
    return value


def on_entries_committed(sender, fiscal_years=frozenset(), **kwargs):
    """Receiver of perfplan.changelog.entries_committed (connected in PublicConfig.ready)."""
    for year in fiscal_years:
        bump(SHARED if year is None else year)
    # Any year's change may show in the list of plans (a publication, a title).
    bump(PLAN_LIST)
