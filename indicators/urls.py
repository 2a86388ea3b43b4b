"""Staff views of tracking, inside the admin shell (mounted at /admin/tracking/)."""

from django.contrib import admin
from django.urls import path

from perfplan.http import json_endpoint

from . import views

app_name = "tracking"


def _staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _staff(views.home_view), name="home"),
    path("my/", _staff(views.my_department_view), name="my_department"),
    path("my/export/", _staff(views.my_department_export_view), name="my_department_export"),
    path("overview/", _staff(views.overview_view), name="overview"),
    path("overview/export/", _staff(views.overview_export_view), name="overview_export"),
    path("indicator/<int:pk>/", _staff(views.indicator_view), name="indicator"),
    path("save/", json_endpoint(_staff(views.save_view)), name="save"),
    path("review/", _staff(views.review_cells_view), name="review_cells"),
    path("review/period/", _staff(views.review_period_view), name="review_period"),
    path("cell/<int:indicator_id>/<str:period>/", _staff(views.cell_view), name="cell"),
    path(
        "evidence/upload/",
        json_endpoint(_staff(views.evidence_upload_view)),
        name="evidence_upload",
    ),
    path("evidence/<int:pk>/", _staff(views.evidence_download_view), name="evidence_download"),
    path(
        "evidence/<int:pk>/delete/",
        json_endpoint(_staff(views.evidence_delete_view)),
        name="evidence_delete",
    ),
]
