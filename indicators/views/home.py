"""Tracking's front door: the grid of my department."""

from django.shortcuts import redirect

from .access import require_view


def home_view(request):
    require_view(request.user)
    return redirect("tracking:my_department")
