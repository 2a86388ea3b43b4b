"""Token authentication: `Authorization: Token pp_…` (or `Bearer pp_…`)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from . import tokens

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """The request is the token's user's; request.auth is the ApiToken."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header is malformed."))
        try:
            text = header[1].decode("ascii")
        except UnicodeDecodeError:
            text = ""
        api_token = tokens.token_for(text)
        if api_token is None:
            raise exceptions.AuthenticationFailed(_("The API token is invalid or revoked."))
        tokens.mark_used(api_token)
        return api_token.user, api_token

    def authenticate_header(self, request):
        return self.keyword
