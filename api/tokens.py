"""Making, checking and revoking API tokens: the one place their rules live.

A token reads `pp_<prefix>_<secret>`: the prefix (10 hex digits, stored in clear) finds the
row, and the whole token's SHA-256 is compared in constant time. The secret has 256 random
bits, so a plain hash (no salt, no stretching) is enough; only the hash is stored. Plan
admins create and revoke tokens for the people they manage (perfplan.people.may_manage);
both are written to the change log with who did it and why.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from perfplan import changelog
from perfplan.changelog import change_context
from perfplan.models import ChangeLogEntry
from perfplan.people import PeopleDenied, may_manage

from .models import PREFIX_LENGTH, ApiToken

TOKEN_START = "pp_"
# last_used_at is written at most once a minute per token: a read costs no write.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def may_create_for(actor, user):
    """Whether `actor` may make or revoke tokens of `user`: the people they manage (None:
    a command run by the operator, as for perfplan.people)."""
    return (actor is None or actor.is_active) and may_manage(actor, user)


def _deny_unless_may_create_for(actor, user):
    if not may_create_for(actor, user):
        raise PeopleDenied(
            _("You may not manage API tokens of %(user)s.") % {"user": user.get_username()}
        )


def create_token(actor, user, name, reason=""):
    """A new token for `user`: returns (the ApiToken, the token text, shown once)."""
    _deny_unless_may_create_for(actor, user)
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    token = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic(), change_context(user=actor, reason=reason):
        api_token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, secret_hash=hash_token(token), created_by=actor
        )
        changelog.record(
            api_token,
            ChangeLogEntry.Action.CREATE,
            {"user": (None, user.get_username()), "name": (None, name), "prefix": (None, prefix)},
            reason,
        )
    return api_token, token


def revoke_token(actor, api_token, reason=""):
    """Revoke `api_token` (kept, marked revoked): it authenticates nothing from now on."""
    _deny_unless_may_create_for(actor, api_token.user)
    if api_token.revoked_at is not None:
        return api_token
    with transaction.atomic(), change_context(user=actor, reason=reason):
        api_token.revoked_at = timezone.now()
        api_token.revoked_by = actor
        api_token.save(update_fields=["revoked_at", "revoked_by"])
        changelog.record(
            api_token,
            ChangeLogEntry.Action.UPDATE,
            {"revoked_at": (None, api_token.revoked_at.isoformat())},
            reason,
        )
    return api_token


def token_for(text):
    """The active ApiToken (with its user) that `text` is, or None."""
    if not text or not text.startswith(TOKEN_START):
        return None
    prefix, _sep, secret = text[len(TOKEN_START) :].partition("_")
    if len(prefix) != PREFIX_LENGTH or not secret:
        return None
    found = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if found is None or not hmac.compare_digest(found.secret_hash, hash_token(text)):
        return None
    if found.revoked_at is not None or not found.user.is_active:
        return None
    return found


def mark_used(api_token, now=None):
    """Record the token's use, to the minute: one UPDATE that writes only when the last
    recorded use is a minute old (a read stays free of writes, every request the same
    queries)."""
    from django.db.models import Q

    now = now or timezone.now()
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION),
        pk=api_token.pk,
    ).update(last_used_at=now)


def request_id_naming(api_token, request_id):
    """The change log's request id for a request made with `api_token`: names the token."""
    return f"api-token:{api_token.prefix}:{request_id}"[:64]
