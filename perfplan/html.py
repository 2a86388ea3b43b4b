"""Escaping for markup written in Python (big tables and selects, see the tracking views)."""

import html


def escape(value):
    """What the template engine writes for a variable (django.utils.html.conditional_escape):
    safe strings as they are, anything else escaped; without Django's lazy-string checks,
    which cost more than the escaping on pages of thousands of cells."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))
