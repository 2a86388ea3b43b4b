"""Two plan years side by side (included from perfplan/urls.py under admin/compare/)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.urls import path

from . import views

app_name = "rollover"

urlpatterns = [
    path("", staff_member_required(views.compare_view), name="compare"),
]
