"""Staff views of tracking, inside the admin shell (mounted at /admin/tracking/)."""

from django.contrib import admin
from django.urls import path

from perfplan.http import json_endpoint

from .views import cell, exports, grid, home, indicator, overview, review, save

app_name = "tracking"


def _staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _staff(home.home_view), name="home"),
    path("my/", _staff(grid.my_department_view), name="my_department"),
    path("my/export/", _staff(exports.my_department_export_view), name="my_department_export"),
    path("overview/", _staff(overview.overview_view), name="overview"),
    path("overview/export/", _staff(exports.overview_export_view), name="overview_export"),
    path("indicator/<int:pk>/", _staff(indicator.indicator_view), name="indicator"),
    path("save/", json_endpoint(_staff(save.save_view)), name="save"),
    path("review/", _staff(review.review_cells_view), name="review_cells"),
    path("review/period/", _staff(review.review_period_view), name="review_period"),
    path("cell/<int:indicator_id>/<str:period>/", _staff(cell.cell_view), name="cell"),
    path(
        "evidence/upload/",
        json_endpoint(_staff(cell.evidence_upload_view)),
        name="evidence_upload",
    ),
    path("evidence/<int:pk>/", _staff(cell.evidence_download_view), name="evidence_download"),
    path(
        "evidence/<int:pk>/delete/",
        json_endpoint(_staff(cell.evidence_delete_view)),
        name="evidence_delete",
    ),
]
