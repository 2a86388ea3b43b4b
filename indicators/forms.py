"""Forms of the tracking views: one cell, an evidence upload, an export."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import evidence


class CellForm(forms.Form):
    """One result as a form posts it (the cell page without script; the grid posts JSON)."""

    indicator = forms.IntegerField(widget=forms.HiddenInput)
    period = forms.CharField(max_length=3, widget=forms.HiddenInput)
    value = forms.CharField(label=_("actual"), required=False, max_length=40)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class EvidenceUploadForm(forms.Form):
    """증빙자료: checked by size and by content (indicators.evidence), not by name."""

    indicator = forms.IntegerField(widget=forms.HiddenInput)
    period = forms.CharField(max_length=3, widget=forms.HiddenInput)
    file = forms.FileField(
        label=_("evidence file"),
        widget=forms.ClearableFileInput(attrs={"accept": evidence.ACCEPT_ATTRIBUTE}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        data = evidence.read_upload(upload)
        self.kind = evidence.check_evidence(upload.name, data)
        self.content = data
        return upload


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv")])
    table = forms.ChoiceField(
        required=False,
        choices=[
            ("grid", _("My department")),
            ("departments", _("By department")),
            ("goals", _("By strategic goal")),
            ("at_risk", _("At risk")),
        ],
    )
    encoding = forms.ChoiceField(required=False, choices=[("utf-8", "UTF-8"), ("cp949", "CP949")])
