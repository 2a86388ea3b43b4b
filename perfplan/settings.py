"""Settings for perfplan.

Everything that differs between a laptop and production comes from the environment:
DATABASE_URL (SQLite by default), DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "insecure-dev-key-only-for-demo-and-tests" if DEBUG else None
)
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
ALLOWED_HOSTS = [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "django_filters",
    "perfplan",
    "goals",
    "budgets",
    "indicators",
    "reports",
    "rollover",
    "reminders",
    "public",
    "api",
    # Long imports run outside the request (perfplan.tasks): django-tasks, database backend.
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    # Login throttling (see "Hardening" below); after our apps so their templates win.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "perfplan.middleware.KoreanFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "perfplan.changelog.ChangeContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "perfplan.urls"
WSGI_APPLICATION = "perfplan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections (60 s), each checked before its first use in a request
# (CONN_HEALTH_CHECKS): after a database restart a worker reconnects instead of answering 500.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The task worker is a second process writing the same file: every transaction takes the
    # write lock as it begins (waiting up to 20 s), so none fails on "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
        "PERFPLAN_TEST_DB_NAME", "test_perfplan"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Korean whatever the browser says; English only by an explicit switch (see middleware).
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True
# Years and ids must not read "2,026"; amounts are formatted explicitly (perfplan.numbers).
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = BASE_DIR / "media"

LOGIN_URL = "admin:login"

# Uploaded plan tables: refused above this size (the readers hold a file in memory).
PERFPLAN_MAX_UPLOAD_BYTES = int(os.environ.get("PERFPLAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
# An xlsx that unpacks to more than this is treated as a zip bomb.
PERFPLAN_MAX_XLSX_UNPACKED_BYTES = int(
    os.environ.get("PERFPLAN_MAX_XLSX_UNPACKED_BYTES", 400 * 1024 * 1024)
)
# Uploads of more rows are previewed and imported by the task worker (`manage.py db_worker`)
# with a progress bar; smaller ones in the request (perfplan.tasks).
PERFPLAN_IMPORT_INLINE_ROWS = int(os.environ.get("PERFPLAN_IMPORT_INLINE_ROWS", 2000))
# Django's cache holds the public pages, their generations and the API's throttle counts. The
# default (local memory) is one process's own: right for the demo's single server, wrong for
# gunicorn's several processes, which would each keep their own pages after a change.
# PERFPLAN_CACHE=database shares it through the database (`manage.py createcachetable`);
# `check --deploy` warns about the per-process cache (perfplan.checks).
PERFPLAN_CACHE = os.environ.get("PERFPLAN_CACHE", "").strip().lower()
if PERFPLAN_CACHE == "database":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "perfplan_cache",
        }
    }
elif PERFPLAN_CACHE not in ("", "locmem"):
    raise RuntimeError("PERFPLAN_CACHE must be 'database' or 'locmem' (the default)")
# Larger xlsx exports are made by the task worker (perfplan.exports); kept this many hours.
PERFPLAN_EXPORT_INLINE_ROWS = int(os.environ.get("PERFPLAN_EXPORT_INLINE_ROWS", 2000))
PERFPLAN_EXPORT_KEEP_HOURS = int(os.environ.get("PERFPLAN_EXPORT_KEEP_HOURS", 24))
# Workbooks are written by libxlsxwriter (Debian's libxlsxwriter4) where installed, else by
# XlsxWriter: "auto", "libxlsxwriter" or "xlsxwriter" (perfplan.xlsx.xlsx_engine).
PERFPLAN_XLSX_ENGINE = os.environ.get("PERFPLAN_XLSX_ENGINE", "auto").strip().lower()
if PERFPLAN_XLSX_ENGINE not in ("auto", "libxlsxwriter", "xlsxwriter"):
    raise RuntimeError("PERFPLAN_XLSX_ENGINE must be 'auto', 'libxlsxwriter' or 'xlsxwriter'")
PERFPLAN_LIBXLSXWRITER_PATH = os.environ.get("PERFPLAN_LIBXLSXWRITER_PATH", "")
# The queue lives in the database (no other server); tests use the ImmediateBackend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("PERFPLAN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = PERFPLAN_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = PERFPLAN_MAX_UPLOAD_BYTES + 1024 * 1024

# django-import-export: our exporters escape every formula prefix themselves.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_SECONDS", 8 * 3600))

# ---------------------------------------------------------------- hardening
# Login throttling (django-axes): 5 failed logins for the same user name from the same
# address lock that pair out for 15 minutes. By the pair, not by address alone: the whole
# office reaches us through one NAT address, and one person's typos must not lock everyone
# out; not by user name alone, or anyone could lock a colleague out by guessing wrongly.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PERFPLAN_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PERFPLAN_LOGIN_LOCK_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout page (HTTP 429) says, in Korean, for how long.
AXES_LOCKOUT_TEMPLATE = "admin/perfplan/lockout.html"

# Sessions end with the browser, and after SESSION_COOKIE_AGE at the latest (above).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The admin's forms carry the CSRF token; no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# ---------------------------------------------------------------- operations
# Errors with their tracebacks to stderr, which the service's journal keeps (README: Running
# in production): Django's own failures (a 500, a refused host) and our apps' warnings.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "journal": {"format": "%(levelname)s %(name)s %(process)d: %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "journal",
        },
    },
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        **{
            app: {
                "handlers": ["stderr"],
                "level": os.environ.get("PERFPLAN_LOG_LEVEL", "WARNING"),
                "propagate": False,
            }
            for app in ("perfplan", "goals", "budgets", "indicators")
        },
    },
}
# ---------------------------------------------------------------- the API (api/, README: API)
# Tokens per user (api.authentication) for other systems; the session for the reference page
# and a signed-in browser. Every answer is JSON; errors carry the Korean message (api.errors).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeyCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("PERFPLAN_API_RATE", "1200/min")},
    "EXCEPTION_HANDLER": "api.errors.json_error",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "perfplan API",
    "DESCRIPTION": "성과계획서 API: plans, goals, indicators, targets, results, change log.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Like every answer of the API: a token or a session.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
}

# A JSON endpoint's CSRF failure answers JSON (perfplan.http); other pages Django's page.
CSRF_FAILURE_VIEW = "perfplan.http.csrf_failure"

# ---------------------------------------------------------------- e-mail (send_reminders)
# Without PERFPLAN_EMAIL_HOST (development, the demo) messages are printed on the console;
# in production they go out through that SMTP server (README: Running in production).
EMAIL_HOST = os.environ.get("PERFPLAN_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("PERFPLAN_EMAIL_PORT", 587))
    EMAIL_HOST_USER = os.environ.get("PERFPLAN_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("PERFPLAN_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("PERFPLAN_EMAIL_TLS", "1") == "1"
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("PERFPLAN_EMAIL_FROM", "perfplan@localhost")
# The address the reminders link to (the admin home with each person's to-do list).
PERFPLAN_BASE_URL = os.environ.get("PERFPLAN_BASE_URL", "http://127.0.0.1:8000")

if not DEBUG:
    # Static files from STATIC_ROOT by the app server itself, right after SecurityMiddleware
    # (README: Running in production). Not in development: runserver serves them there.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    # collectstatic writes hashed, compressed copies that WhiteNoise serves with far-future
    # cache headers; a template naming a file collectstatic did not see fails loudly.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
