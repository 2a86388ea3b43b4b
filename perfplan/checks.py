"""Deployment checks of our own, beside Django's (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

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
