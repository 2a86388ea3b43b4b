from import_export.admin import ExportActionModelAdmin

from .formats import CSV, XLSX


class PlanDataAdmin(ExportActionModelAdmin):
    """Base of every plan-data admin: export of the selected rows, formula-escaped."""

    formats = [XLSX, CSV]
    export_formats = [XLSX, CSV]
    list_per_page = 100
    list_max_show_all = 1000
    show_full_result_count = False
