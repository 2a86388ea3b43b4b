"""The public pages, mounted at /public/ by perfplan.urls: no login needed."""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "csv|cp949\\.csv|json"

    def to_python(self, value):
        return "cp949" if value == "cp949.csv" else value

    def to_url(self, value):
        return "cp949.csv" if value == "cp949" else value


register_converter(FormatConverter, "datafmt")

app_name = "public"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("data/dictionary/", views.dictionary, name="dictionary"),
    path("language/<str:language>/", views.switch_language, name="language"),
    path("<int:year>/", views.plan_page, name="plan"),
    path("<int:year>/departments/<int:department_id>/", views.department_page, name="department"),
    path("<int:year>/data/<slug:dataset>.<datafmt:fmt>", views.download, name="download"),
]
