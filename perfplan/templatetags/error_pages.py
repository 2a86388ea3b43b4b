"""The way back from a 403/404 page (templates/403.html, 404.html, errors/)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django import template
from django.core.exceptions import DisallowedHost
from django.utils.http import url_has_allowed_host_and_scheme

register = template.Library()


@dataclass(frozen=True)
class WayBack:
    url: str
    is_previous_page: bool


@register.simple_tag
def way_back(request, fallback):
    """The page the user came from when it is on this site (and not this page), else
    `fallback`. Only a same-site path is offered: another site's Referer is never a link."""
    referer = request.META.get("HTTP_REFERER", "") if request is not None else ""
    if referer:
        try:
            host = request.get_host()
        except DisallowedHost:
            host = None
        if host and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={host}, require_https=request.is_secure()
        ):
            parts = urlsplit(referer)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.path and path != request.get_full_path():
                return WayBack(path, True)
    return WayBack(fallback, False)
