"""Error answers of the JSON endpoints: a status and a Korean message as JSON, never a page.

A page's script (the grid's save, evidence uploads) asks for JSON; whatever goes wrong —
the view's own refusal, a 403 or 404 raised on the way, a 405, an expired login, a CSRF
failure or an exception (500) — it gets {"ok": false, "error": …} with the status, so it
can show the message where the officer is working. `json_endpoint` wraps such a view (in
its urls.py); CSRF_FAILURE_VIEW is `csrf_failure` below, which answers JSON for them too.
A form post to the same view (no JSON asked for) gets the usual pages.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import resolve_url
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as page_csrf_failure


def wants_json(request):
    """The client asked for a JSON answer (the pages' fetch() calls say so)."""
    return (
        request.headers.get("X-Requested-With") == "fetch"
        or "application/json" in request.headers.get("Accept", "")
        or request.content_type == "application/json"
    )


def json_error(status, message):
    return JsonResponse({"ok": False, "error": message}, status=status)


def _message(status, request):
    if status == 401:
        return _("Your login has expired; log in again, then repeat the change.")
    if status == 403:
        return _("You do not have permission for this action.")
    if status == 404:
        return _("Not found: it was deleted, or it is outside the departments you work for.")
    if status == 405:
        return _("This address does not accept a %(method)s request.") % {"method": request.method}
    if status >= 500:
        return _(
            "Server error: the change may not have been saved. Reload the page to see what "
            "was saved; if it happens again, tell the system administrator when it happened."
        )
    return _("The request could not be read; reload the page and try again.")


def _to_login(response):
    """The answer is the login redirect (the admin's, for a user whose login expired)."""
    if response.status_code != 302:
        return False
    login = urlsplit(resolve_url(settings.LOGIN_URL)).path
    return urlsplit(response.get("Location", "")).path == login


def _is_json(response):
    return response.get("Content-Type", "").startswith("application/json")


def json_endpoint(view):
    """Mark and wrap a view that answers JSON when asked: its errors answer JSON too."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not wants_json(request):
            return view(request, *args, **kwargs)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return json_error(404, _message(404, request))
        except PermissionDenied:
            return json_error(403, _message(403, request))
        except Exception as exc:
            # As Django's handler would: signal it, log it with its traceback (LOGGING sends
            # django.request to stderr, the service's journal).
            signals.got_request_exception.send(sender=None, request=request)
            response = json_error(500, _message(500, request))
            log_response(
                "Internal Server Error: %s",
                request.path,
                response=response,
                request=request,
                exception=exc,
            )
            return response
        if _to_login(response):
            return json_error(401, _message(401, request))
        if response.status_code >= 400 and not _is_json(response):
            return json_error(response.status_code, _message(response.status_code, request))
        return response

    wrapped.json_endpoint = True
    return wrapped


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: JSON for a JSON endpoint asked for JSON, else Django's page."""
    match = getattr(request, "resolver_match", None)
    if match and getattr(match.func, "json_endpoint", False) and wants_json(request):
        return json_error(
            403,
            _("The page's security token has expired; reload the page, then repeat the change."),
        )
    return page_csrf_failure(request, reason=reason)
