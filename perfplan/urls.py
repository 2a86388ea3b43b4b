from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import exports

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/tracking/", include("indicators.urls")),
    path("admin/results/", include("indicators.urls_results")),
    path("admin/compare/", include("rollover.urls")),
    path("admin/reports/", include("reports.urls")),
    path("admin/exports/", include((exports.urlpatterns, "exports"))),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("public/", include("public.urls")),
]
