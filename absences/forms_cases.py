"""Forms of the case page: log an action, correct an entry. Minimum data (domain.md A3): structured
fields, and a short optional note that warns not to write health or family details."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from absences.models import CaseEntry
from absences.selectors_cases import ACTION_KINDS
from absences.services.cases import KIND_FIELDS
from welfare.forms import ServiceErrorsMixin

NOTE_WARNING = _("Do not write health or family details here: Yhdessä is not a client record.")


def _not_in_future(value) -> None:
    if value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."))


def _date_field(label=None) -> forms.DateField:
    return forms.DateField(label=label or _("Date"), initial=timezone.localdate, validators=[_not_in_future],
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _choices(choices) -> list:
    return [("", _("Choose…")), *choices]


class ActionForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Action"), widget=forms.RadioSelect,
                             choices=[(k.value, k.label) for k in CaseEntry.Kind if k in ACTION_KINDS])
    occurred_on = _date_field()
    contact_method = forms.ChoiceField(
        label=_("Contact method"), required=False, choices=_choices(CaseEntry.ContactMethod.choices),
        help_text=_("Required when the guardian was contacted."))
    referral_target = forms.ChoiceField(
        label=_("Referred to"), required=False, choices=_choices(CaseEntry.ReferralTarget.choices),
        help_text=_("Required for a referral."))
    close_reason = forms.ChoiceField(
        label=_("Reason for closing"), required=False, choices=_choices(CaseEntry.CloseReason.choices),
        help_text=_("Required when the case is closed."))
    note = forms.CharField(label=_("Short note (optional)"), required=False, max_length=300,
                           widget=forms.Textarea(attrs={"rows": 2}), help_text=NOTE_WARNING)

    def clean(self):
        cleaned = super().clean()
        needed = KIND_FIELDS.get(cleaned.get("kind"))
        if needed and not cleaned.get(needed):
            self.add_error(needed, _("This field is required for this kind of action."))
        return cleaned


class CorrectionForm(ServiceErrorsMixin, forms.Form):
    """The corrected date and the kind's own detail, and why (required)."""

    occurred_on = _date_field(_("Corrected date"))
    note = forms.CharField(label=_("Why is the entry corrected?"), max_length=300,
                           widget=forms.Textarea(attrs={"rows": 2}), help_text=NOTE_WARNING)

    DETAIL_FIELDS = {
        "contact_method": (_("Contact method"), CaseEntry.ContactMethod.choices),
        "referral_target": (_("Referred to"), CaseEntry.ReferralTarget.choices),
        "close_reason": (_("Reason for closing"), CaseEntry.CloseReason.choices),
    }

    def __init__(self, *args, kind: str, original: CaseEntry | None = None, **kwargs):
        if original is not None and "initial" not in kwargs:
            kwargs["initial"] = {"occurred_on": original.occurred_on, "contact_method": original.contact_method,
                                 "referral_target": original.referral_target, "close_reason": original.close_reason}
        super().__init__(*args, **kwargs)
        self.detail_field = KIND_FIELDS.get(kind)
        if self.detail_field:
            label, choices = self.DETAIL_FIELDS[self.detail_field]
            self.fields[self.detail_field] = forms.ChoiceField(label=label, choices=_choices(choices))
            self.order_fields(["occurred_on", self.detail_field, "note"])
