"""The standings an import outdated, computed by the task worker (issue 16, item 3).

An import's call returns as soon as its transaction committed: computing the standings of a
new national plan (50,000 indicators) there took two thirds of its time, inside the request
or the command. Instead `indicators.standing.after_import` queues `compute_standings` once
the import committed (django-tasks, the database backend; `manage.py db_worker`, README
"Running in production"); an import that already runs in the worker computes them right
there. Whatever is not computed yet when a page reads it is computed by the page
(`standing.ensure`, the safety net), never wrongly shown.
"""

from __future__ import annotations

from django_tasks import task


@task()
def compute_standings(plan_id):
    """Compute the plan's standings that are not current; how many (0: the plan is gone,
    or another computation got there first)."""
    from perfplan.models import Plan

    from . import standing

    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return 0
    return standing.ensure(plan)
