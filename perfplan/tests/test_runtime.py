"""The WSGI entry point tunes the garbage collector as perfplan.runtime says."""

import os
import subprocess
import sys

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
