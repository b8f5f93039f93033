"""Forms of absence follow-up."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from absences.models import AbsenceImport
from absences.services.imports import FIELDS

IGNORE = ""


class AbsenceUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("An export of the student register (Wilma, Primus): CSV separated by semicolons or commas "
                    "(UTF-8 or Windows-1252, decimal comma allowed) or an Excel workbook (XLSX); headers in "
                    "Finnish, Swedish or English."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}),
    )
    kind = forms.ChoiceField(
        label=_("What the file contains"),
        choices=[("", _("Detect from the columns")), *AbsenceImport.Kind.choices],
        required=False,
    )


class ColumnMappingForm(forms.Form):
    """One select per column of the file: which field it gives (or ignore)."""

    kind = forms.ChoiceField(label=_("What the file contains"), choices=AbsenceImport.Kind.choices)

    def __init__(self, *args, headers: list[str], fields: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        chosen = {index: name for name, index in fields.items()}
        choices = [(IGNORE, _("Ignore this column")), *((name, field.label) for name, field in FIELDS.items())]
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1},
                choices=choices, required=False, initial=chosen.get(index, IGNORE))

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def clean(self):
        cleaned = super().clean()
        seen: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            name = cleaned.get(f"column_{index}")
            if not name:
                continue
            if name in seen:
                self.add_error(f"column_{index}", _('"%(field)s" is already given by column "%(other)s".') % {
                    "field": FIELDS[name].label, "other": seen[name]})
            seen[name] = header
        return cleaned

    def mapping(self) -> dict[str, int]:
        return {self.cleaned_data[f"column_{index}"]: index for index in range(len(self.headers))
                if self.cleaned_data.get(f"column_{index}")}
