"""Forms of the annual clock."""

from __future__ import annotations

import re
from types import SimpleNamespace

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from annualclock.models import (
    SCHOOL_YEAR_MONTHS,
    Activity,
    Clock,
    ClockSettings,
    ClockTemplate,
    Evaluation,
    Ring,
    Status,
    localized,
)
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


# --- The coordinator's settings (annualclock.views_settings) -----------------------------------

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text (1.4.3)


def contrast_with_white(color: str) -> float:
    """The WCAG 2.1 contrast ratio of white text on ``color`` ("#rrggbb"): 1 … 21."""
    channels = []
    for start in (1, 3, 5):
        value = int(color[start:start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return 1.05 / (luminance + 0.05)


class ClockSettingsForm(forms.ModelForm):
    class Meta:
        model = ClockSettings
        fields = ["reminder_days"]
        labels = {"reminder_days": _("Reminder days before an activity")}
        help_texts = {"reminder_days": _(
            "The owners of an activity get a reminder (a notification and an e-mail) this many days before it "
            "starts, from 1 to 60 days. A school's own clock may set its own number; otherwise this one is used.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reminder_days"]
        field.validators = [*field.validators, MinValueValidator(1), MaxValueValidator(60)]
        field.widget.attrs.update({"min": 1, "max": 60})


class ClockRemindersForm(forms.ModelForm):
    """A school's own reminder days for its clock (empty: the municipality's setting)."""

    class Meta:
        model = Clock
        fields = ["reminder_days"]

    def __init__(self, *args, default_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reminder_days"]
        field.widget.attrs.update({"min": 1, "max": 60})
        field.help_text = _("Leave empty to use the municipality's setting (%(days)s days).") % {"days": default_days}


RING_FIELDS = ["name_fi", "name_sv", "name_en", "color", "position", "active"]


class RingForm(forms.ModelForm):
    """One ring's row. The blank extra row (no ``pk``) counts only when its Finnish name is given."""

    class Meta:
        model = Ring
        fields = RING_FIELDS
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}
        help_texts = {"active": _("Untick to hide the ring from new activities. Activities that already "
                                  "have it keep it.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].widget.attrs.update({"min": 0, "max": 999})
        self.fields["position"].validators.append(MaxValueValidator(999))
        self.fields["color"].widget.attrs.pop("maxlength", None)  # not an attribute of a colour input
        self.fields["color"].help_text = _("White text must stay readable on it (contrast at least 4.5:1).")

    @property
    def is_new(self) -> bool:
        return self.instance.pk is None

    def has_changed(self) -> bool:
        if self.is_new and not (self.data.get(self.add_prefix("name_fi")) or "").strip():
            return False  # the blank row without a Finnish name is ignored
        return super().has_changed()

    def ring_label(self) -> str:
        """The ring as the coordinator knows it: its saved name in the user's language (the new
        row: the Finnish name typed), not a half-edited one."""
        if self.is_new:
            name = (self.data.get(self.add_prefix("name_fi")) or "").strip() if self.is_bound else ""
            return name or str(_("New ring"))
        return localized(SimpleNamespace(**self.initial), "name") or self.instance.code

    def clean_color(self):
        color = (self.cleaned_data.get("color") or "").strip()
        if not COLOR_RE.match(color):
            raise ValidationError(_("Give the colour of %(ring)s as #rrggbb, e.g. #1f5f8b.")
                                  % {"ring": self.ring_label()}, code="format")
        ratio = contrast_with_white(color)
        if ratio < MIN_CONTRAST:
            raise ValidationError(
                _("The colour %(color)s of %(ring)s is too light: white text on it has a contrast of only "
                  "%(ratio)s:1, and at least 4.5:1 is needed. Choose a darker colour.")
                % {"color": color.lower(), "ring": self.ring_label(), "ratio": number_format(ratio, 2)},
                code="contrast")
        return color.lower()


class BaseRingFormSet(forms.BaseModelFormSet):
    def non_field_errors(self) -> list[str]:
        """Every error of the rows, each naming its ring, for the error summary
        (templates/includes/form_errors.html reads ``errors`` and ``non_field_errors``)."""
        lines = list(self.non_form_errors())
        for form in self.forms:
            label = form.ring_label()
            for name, errors in form.errors.items():
                field_label = form.fields[name].label if name in form.fields else ""
                for error in errors:
                    if label in error:
                        lines.append(error)
                    elif field_label:
                        lines.append(f"{label} – {field_label}: {error}")
                    else:
                        lines.append(f"{label}: {error}")
        return lines


RingFormSet = forms.modelformset_factory(Ring, form=RingForm, formset=BaseRingFormSet, fields=RING_FIELDS, extra=1,
                                         can_delete=False, max_num=200, validate_max=True)
