import os

from django.core.wsgi import get_wsgi_application

from perfplan.runtime import tune_garbage_collector

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplan.settings")
application = get_wsgi_application()
# The app is loaded: the collector settings of a long-lived server process (perfplan.runtime).
tune_garbage_collector()
