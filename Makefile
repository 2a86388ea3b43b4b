# perfplan: `make demo` and `make test` are the quick start (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo demo-reset test install lint lint-imports messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# The server, and beside it the task worker that runs long imports (perfplan.tasks); the
# worker stops with the server (Ctrl+C, or a second `make demo` finding the port taken).
SERVE = $(PY) manage.py db_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# An existing demo is left as it is (edits and publication kept) and served again;
# demo-reset deletes the demo plan and loads the seed afresh.
demo: install
	$(PY) manage.py migrate --noinput
	-$(PY) manage.py load_demo
	@echo "perfplan: http://127.0.0.1:$(PORT)/admin/"
	$(SERVE)

demo-reset: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --reset
	@echo "perfplan: http://127.0.0.1:$(PORT)/admin/"
	$(SERVE)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff (with complexity ≤ 15) and the layers contract: the apps depend one way (.importlinter).
lint: install lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lint-imports: install
	$(VENV)/bin/lint-imports --no-cache

# Regenerate the Korean catalogue; django-filter's and django-import-export's strings are
# kept in locale/ko/third_party_ko.po and merged back (makemessages only sees our code).
messages: install
	$(PY) manage.py makemessages -l ko --no-obsolete --ignore=.venv --ignore=bench --ignore=staticfiles
	msgcat --use-first locale/ko/LC_MESSAGES/django.po locale/ko/third_party_ko.po -o locale/ko/LC_MESSAGES/django.po
	msgfmt --check-format -o /dev/null locale/ko/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages -l ko --ignore=.venv
	@echo "Untranslated or fuzzy entries fail perfplan/tests/test_translations.py: fill them in."

bench: install
	$(PY) bench/plan_import.py
	$(PY) bench/results_import.py
	$(PY) bench/tracking_views.py
	$(PY) bench/admin_pages.py
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
