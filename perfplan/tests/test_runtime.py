"""The WSGI entry point tunes the garbage collector as perfplan.runtime says."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from perfplan.runtime import YOUNG_THRESHOLD

PROBE = (
    "import gc, perfplan.wsgi; "
    "print(gc.get_threshold()[0], gc.get_freeze_count() > 10000, perfplan.wsgi.application)"
)


def test_the_wsgi_application_runs_with_the_tuned_collector():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "perfplan.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    threshold, frozen, application = done.stdout.split(maxsplit=2)
    assert int(threshold) == YOUNG_THRESHOLD > 700
    assert frozen == "True"  # Django and the apps are out of the collector's way
    assert "WSGIHandler" in application


def test_the_collector_is_paused_inside_the_block_only():
    import gc

    from perfplan.runtime import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


@pytest.mark.django_db
def test_imports_run_with_the_collector_paused(monkeypatch):
    import gc

    from goals.tests.factories import make_plan
    from perfplan.planfiles.importer import diff as stage

    seen = []
    diff = stage.diff

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return diff(*args, **kwargs)

    monkeypatch.setattr(stage, "diff", watched)
    make_plan(2031, departments=1, goals=1, policy_goals=1, indicators=1)
    assert seen == [False] and gc.isenabled()
