from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from perfplan.files import check_upload_size


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class PlanImportForm(forms.Form):
    fiscal_year = forms.IntegerField(
        label=_("Fiscal year"),
        min_value=2000,
        max_value=2100,
        initial=lambda: timezone.localdate().year,
    )
    files = MultipleFileField(
        label=_("Files"),
        help_text=_(
            "xlsx, ods or csv (UTF-8, UTF-16 or CP949) plan tables: the plan and budget share "
            "table, the summary by department, unit programs; or the text of a published plan "
            "(.txt)."
        ),
    )

    reason = forms.CharField(
        label=_("Reason for the amendment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_(
            "Required when the plan is published and the file changes a target or a budget."
        ),
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        for upload in files:
            check_upload_size(upload.name, upload.size)
        return files


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv"), ("json", "json")])
    table = forms.ChoiceField(
        required=False,
        choices=[
            ("hierarchy", _("Plan and budget share")),
            ("summary", _("Summary by department")),
            ("unit_programs", _("Unit programs")),
        ],
    )
    encoding = forms.ChoiceField(required=False, choices=[("utf-8", "UTF-8"), ("cp949", "CP949")])
