"""Results import in the admin shell, at /admin/results/ (see indicators.views.results_import)."""

from django.contrib import admin
from django.urls import path

from .views import results_import

app_name = "results"
urlpatterns = [
    path("", admin.site.admin_view(results_import.results_import_view), name="import"),
    path(
        "template/",
        admin.site.admin_view(results_import.results_template_view),
        name="template",
    ),
    path(
        "<uuid:batch_id>/confirm/",
        admin.site.admin_view(results_import.results_import_confirm_view),
        name="confirm",
    ),
]
