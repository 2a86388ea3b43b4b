"""The results report's pages, inside the admin shell (mounted at /admin/reports/)."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "reports"


def _staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _staff(views.report_view), name="report"),
    path("export/", _staff(views.export_view), name="export"),
    path("pdf/", _staff(views.pdf_view), name="pdf"),
    path("final/", _staff(views.final_view), name="final"),
    path("pdf/make/", _staff(views.make_pdf_view), name="make_pdf"),
    path("text/<int:indicator_id>/", _staff(views.text_view), name="text"),
]
