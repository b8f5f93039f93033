"""Forms of the threshold policy editor (municipal admins): a draft version, its grade bands and
each band's steps."""

from __future__ import annotations

import re

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from absences.models import AbsenceCategory, EscalationStep, GradeBand, PolicyVersion, ThresholdUnit
from absences.presets import preset_choices
from welfare.models import Role

GRADES = range(1, 10)
CHECK_DATE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label=_("Threshold model"), widget=forms.RadioSelect,
                               help_text=_("A new draft is created from the model; you can edit everything "
                                           "before publishing it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = preset_choices()


class VersionForm(forms.ModelForm):
    """The version's counting rules; scheduled hours per grade are one field per grade."""

    check_dates_text = forms.CharField(
        label=_("Check dates"), required=False,
        help_text=_("Month and day as MM-DD, separated by commas (e.g. 11-01, 03-01). Used with the "
                    "“check dates” counting period: the count runs from the start of the school year."))
    counted_categories = forms.MultipleChoiceField(label=_("Counted categories"), widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = PolicyVersion
        fields = ["counting_period", "counted_categories", "unit", "consecutive_days", "unexplained_after_days"]
        help_texts = {
            "consecutive_days": _("Leave empty to switch the rule off. A day counts when the pupil has at least "
                                  "3 counted lesson hours of absence."),
            "unexplained_after_days": _("Leave empty to switch the rule off."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counted_categories"].choices = [(c.code, c.name) for c in AbsenceCategory.objects.all()]
        self.fields["check_dates_text"].initial = ", ".join(self.instance.check_dates)
        hours = self.instance.scheduled_hours_per_week or {}
        for grade in GRADES:
            self.fields[f"hours_grade_{grade}"] = forms.DecimalField(
                label=_("Grade %(grade)s") % {"grade": grade}, required=False, min_value=0, max_value=60,
                decimal_places=1, initial=hours.get(str(grade)),
                help_text=_("Scheduled lesson hours per week"))

    def hour_fields(self):
        return [self[f"hours_grade_{grade}"] for grade in GRADES]

    def clean_check_dates_text(self):
        values = [part.strip() for part in self.cleaned_data["check_dates_text"].split(",") if part.strip()]
        wrong = [value for value in values if not CHECK_DATE.match(value)]
        if wrong:
            raise forms.ValidationError(_("Write check dates as MM-DD: %(values)s") % {"values": ", ".join(wrong)})
        return sorted(set(values))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("counting_period") == "check_dates" and not cleaned.get("check_dates_text"):
            self.add_error("check_dates_text", _("Give at least one check date."))
        if cleaned.get("unit") == ThresholdUnit.PERCENT and not any(
                cleaned.get(f"hours_grade_{grade}") for grade in GRADES):
            self.add_error(None, _("A percentage threshold needs the scheduled hours per week of the grades."))
        return cleaned

    def save(self, commit=True):
        version = super().save(commit=False)
        version.check_dates = self.cleaned_data["check_dates_text"]
        version.scheduled_hours_per_week = {
            str(grade): float(self.cleaned_data[f"hours_grade_{grade}"])
            for grade in GRADES if self.cleaned_data.get(f"hours_grade_{grade}") is not None}
        if commit:
            version.save()
        return version


class BaseBandFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        taken: dict[int, str] = {}
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE") or form.errors:
                continue
            low, high = form.cleaned_data.get("grade_min"), form.cleaned_data.get("grade_max")
            if low is None or high is None:
                continue
            if low > high:
                form.add_error("grade_max", _("The last grade must not be below the first."))
                continue
            for grade in range(low, high + 1):
                if grade in taken:
                    raise forms.ValidationError(_("Grade %(grade)s is in two bands.") % {"grade": grade})
                taken[grade] = str(form.cleaned_data.get("name"))


BandFormSet = inlineformset_factory(
    PolicyVersion, GradeBand, formset=BaseBandFormSet, fields=["name", "grade_min", "grade_max"], extra=1,
    can_delete=True)


class StepForm(forms.ModelForm):
    notified_roles = forms.MultipleChoiceField(label=_("Notified roles"), required=False,
                                               choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = EscalationStep
        fields = ["level", "threshold", "name", "responsible_role", "notified_roles", "required_action",
                  "days_to_react"]
        widgets = {"required_action": forms.Textarea(attrs={"rows": 2})}


class BaseStepFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = sorted((f.cleaned_data["level"], f.cleaned_data["threshold"]) for f in self.forms
                      if f.cleaned_data and not f.cleaned_data.get("DELETE") and not f.errors
                      and f.cleaned_data.get("level") is not None and f.cleaned_data.get("threshold") is not None)
        levels = [level for level, _threshold in rows]
        if len(levels) != len(set(levels)):
            raise forms.ValidationError(_("Two steps have the same number."))
        thresholds = [threshold for _level, threshold in rows]
        if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
            raise forms.ValidationError(_("Each step needs a higher threshold than the step before it."))


StepFormSet = inlineformset_factory(GradeBand, EscalationStep, form=StepForm, formset=BaseStepFormSet, extra=1,
                                    can_delete=True)
