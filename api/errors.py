"""Every refusal of the API as JSON, with its message in the active language (Korean first):
{"error": "…", "code": "…"}, plus "errors" when there are several (a save's cells,
a form's fields)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _messages():
    # Our own words for DRF's refusals (its catalogue has no "ko" Korean for these).
    return {
        exceptions.NotAuthenticated: _("Sign in, or send an API token (Authorization: Token …)."),
        exceptions.AuthenticationFailed: None,  # ours say why (api.authentication)
        exceptions.PermissionDenied: _("You may not do this."),
        exceptions.NotFound: _("Not found, or not one you may see."),
        exceptions.MethodNotAllowed: _("This method is not allowed here."),
        exceptions.NotAcceptable: _("This answer is given as JSON only."),
        exceptions.UnsupportedMediaType: _("Send the request body as JSON."),
        exceptions.ParseError: _("The request body is not valid JSON."),
    }


def error_body(message, code, errors=None):
    body = {"error": str(message), "code": code}
    if errors:
        body["errors"] = [str(e) for e in errors]
    return body


def json_error(exc, context):
    """REST_FRAMEWORK's EXCEPTION_HANDLER."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 0)
        message = _("Too many requests: try again in %(seconds)s seconds.") % {"seconds": wait}
        response.data = error_body(message, "throttled")
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail))
        response.data = error_body(
            errors[0] if len(errors) == 1 else _("The request has errors."), "invalid", errors
        )
        return response
    message = _messages().get(type(exc))
    if message is None or (isinstance(exc, exceptions.PermissionDenied) and _own_detail(exc)):
        message = exc.detail
    response.data = error_body(message, getattr(exc.detail, "code", None) or "error")
    return response


def _own_detail(exc):
    return str(exc.detail) != str(exceptions.PermissionDenied.default_detail)


def _flatten(detail, where=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, key if key != "non_field_errors" else where)
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value, where)
    else:
        yield f"{where}: {detail}" if where else str(detail)


def refused(messages, code="refused", http_status=status.HTTP_400_BAD_REQUEST):
    """A refusal of the workflow (its Korean messages) as the API answers it."""
    messages = [str(m) for m in messages]
    return Response(error_body("\n".join(messages), code, messages), status=http_status)
