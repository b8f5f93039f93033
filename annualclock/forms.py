"""Forms of the annual clock."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from annualclock.models import SCHOOL_YEAR_MONTHS, Activity, ClockTemplate, Evaluation, Status
from annualclock.presentation import month_name
from welfare.models import SchoolYear

ACTIVITY_FIELDS = ["ring", "title_fi", "title_sv", "title_en", "description_fi", "description_sv", "description_en",
                   "month_start", "month_end", "start_date", "end_date", "recurrence", "owner_role", "owner_ids",
                   "target_group", "target_grades", "target_note", "links", "status"]


class GradesField(forms.CharField):
    """Grades as "1, 7" (stored as a list of numbers)."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(grade) for grade in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        grades = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 0 <= int(part) <= 13:
                raise ValidationError(_("Give the grades as numbers separated by commas, e.g. 1, 7."))
            grades.append(int(part))
        return sorted(set(grades))


class ActivityForm(forms.ModelForm):
    """A clock or template activity. ``owners`` are (user id, name) pairs: the school's staff."""

    target_grades = GradesField(label=_("Grades"), required=False, help_text=_("E.g. 1, 7"))
    owner_ids = forms.TypedMultipleChoiceField(label=_("Named owners"), required=False, coerce=int,
                                               widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Activity
        fields = ACTIVITY_FIELDS
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description_fi": forms.Textarea(attrs={"rows": 3}),
            "description_sv": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
            "links": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, template: bool = False, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        months = [(month, month_name(month)) for month in SCHOOL_YEAR_MONTHS]
        self.fields["month_start"] = forms.TypedChoiceField(label=_("First month"), choices=months, coerce=int)
        self.fields["month_end"] = forms.TypedChoiceField(label=_("Last month"), choices=months, coerce=int)
        self.fields["ring"].queryset = self.fields["ring"].queryset.filter(active=True) | (
            self.fields["ring"].queryset.filter(pk=self.instance.ring_id) if self.instance.ring_id else
            self.fields["ring"].queryset.none())
        self.fields["ring"].empty_label = None
        self.fields["owner_ids"].choices = list(owners)
        if template:
            for name in ("start_date", "end_date", "owner_ids", "status"):
                self.fields.pop(name)
        if not self.instance.pk and "status" in self.fields:
            self.fields.pop("status")
        if "status" in self.fields:
            self.fields["status"].choices = [(Status.PLANNED, Status.PLANNED.label),
                                             (Status.CANCELLED, Status.CANCELLED.label)] + (
                [(Status.DONE, Status.DONE.label)] if self.instance.status == Status.DONE else [])
        if "start_date" in self.fields:
            self.fields["start_date"].help_text = _("Optional: exact dates instead of the months.")

    def clean_links(self):
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        validate = URLValidator(schemes=["http", "https"])
        for link in links:
            try:
                validate(link)
            except ValidationError:
                raise ValidationError(_("%(link)s is not a web address (https://…).") % {"link": link}) from None
        return "\n".join(links)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end:  # the months follow the dates
            cleaned["month_start"], cleaned["month_end"] = start.month, end.month
            self.instance.month_start, self.instance.month_end = start.month, end.month
        return cleaned


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = ["what_happened", "reach", "next_year"]
        widgets = {"what_happened": forms.Textarea(attrs={"rows": 3}), "next_year": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reach"].widget.attrs.update({"min": 0, "max": 100000})
        self.fields["reach"].max_value = 100000


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ClockTemplate
        fields = ["name", "school_type", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class NewClockForm(forms.Form):
    """A school's clock for a school year: from a template, from an earlier clock of the school, or empty."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None, empty_label=None)
    school_year = forms.ModelChoiceField(label=_("School year"), queryset=SchoolYear.objects.all(), empty_label=None)
    source = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args, schools, templates, earlier_clocks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        choices = [(f"template:{t.pk}", _("Template: %(name)s") % {"name": t.name}) for t in templates]
        choices += [(f"clock:{c.pk}", _("Copy of %(school)s %(year)s") % {"school": c.school.name,
                                                                          "year": c.school_year})
                    for c in earlier_clocks]
        choices.append(("empty", _("An empty clock")))
        self.fields["source"].choices = choices
