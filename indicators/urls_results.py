"""Results import in the admin shell, at /admin/results/ (see indicators.results_views)."""

from django.contrib import admin
from django.urls import path

from . import results_views

app_name = "results"
urlpatterns = [
    path("", admin.site.admin_view(results_views.results_import_view), name="import"),
    path(
        "template/",
        admin.site.admin_view(results_views.results_template_view),
        name="template",
    ),
    path(
        "<uuid:batch_id>/confirm/",
        admin.site.admin_view(results_views.results_import_confirm_view),
        name="confirm",
    ),
]
