"""How an app server process runs perfplan: the garbage collector of a long-lived worker.

Python's cycle collector pauses whichever request is running when it decides to look at
every object. In a server process two settings keep those pauses short and rare
(bench/tracking_views.py, --no-gc-tuning shows the difference: at national scale the
whole-plan overview's p95 goes from 119 ms, with full collections of 50–75 ms, to 87 ms):

* gc.freeze() once the app is loaded: Django, the apps, their modules and registries live
  as long as the process, so no collection scans them again;
* a young-generation threshold of 20,000 allocations instead of 700: a page builds tens of
  thousands of short-lived objects, which then die before a collection sees them instead
  of being promoted, and full collections (which scan the request's objects too) become
  rare. The cost is a few MB of garbage waiting a little longer.
"""

import gc
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000


def tune_garbage_collector(young_threshold=YOUNG_THRESHOLD):
    gc.collect()  # not to freeze garbage
    gc.freeze()
    gc.set_threshold(young_threshold, *gc.get_threshold()[1:])


@contextmanager
def collector_paused():
    """No cycle collection inside the block: for bulk work (an import) that builds hundreds of
    thousands of objects and keeps most of them alive to the end (the changes it writes
    and logs). Each collection would scan them all again: a national plan's diff took 1.6 s
    instead of 0.9 (bench/plan_import.py). Reference counting still frees what dies; what
    only a collection frees waits for the end of the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
