from django import template
from django.utils.translation import gettext as _

from perfplan.numbers import format_amount, format_share

register = template.Library()


@register.filter
def amount(value):
    """백만원 with thousands separators; an empty cell for a missing figure."""
    return format_amount(value)


@register.filter
def value(value):
    """A preview cell: amounts with separators and no trailing zeros, None as empty."""
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value)
    return value


@register.filter
def share(value):
    return format_share(value)


@register.filter
def figure(value):
    """Table 가 cell: counts and amounts alike, '—' where a figure cannot be computed."""
    if value is None:
        return "—"
    return format_amount(value)


@register.filter
def field_label(name):
    from perfplan.planfiles.summary import FIELD_LABELS

    return FIELD_LABELS.get(name, name)


@register.simple_tag
def not_computed_title():
    return _("cannot be computed from the hierarchy")
