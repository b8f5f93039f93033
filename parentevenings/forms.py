"""Forms of parent evenings: the public registration and feedback forms, and the staff forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parentevenings import invitations, languages
from parentevenings.models import (
    Agency,
    ContactChannel,
    EveningLanguage,
    InterpreterBooking,
    ParentEvening,
    ParentEveningSettings,
)
from parentevenings.services import messaging
from parentevenings.services.registrations import RegistrationInput
from welfare.models import School


class HoneypotMixin(forms.Form):
    """A field people never see (hidden with CSS and from screen readers); bots fill it in."""

    website = forms.CharField(required=False, label=_("Leave this field empty"), max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class RegistrationForm(HoneypotMixin):
    """One form, mobile first. Contact details only when the guardian wants reminders."""

    language = forms.ChoiceField(label=_("Language group"))
    adults = forms.IntegerField(label=_("Adults"), min_value=1, max_value=10, initial=1)
    children = forms.IntegerField(label=_("Children"), min_value=0, max_value=15, initial=0)
    interpreter_needed = forms.BooleanField(label=_("We need an interpreter"), required=False)
    childcare_needed = forms.BooleanField(label=_("We need child care during the evening"), required=False)
    accessibility_needs = forms.CharField(
        label=_("Accessibility needs (optional)"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example a wheelchair place or an induction loop. Do not write health details."))
    CHANNEL_CHOICES = {ContactChannel.EMAIL: _("Yes, by email"), ContactChannel.SMS: _("Yes, by text message")}
    channel = forms.ChoiceField(label=_("Do you want a confirmation and a reminder?"), required=False,
                                widget=forms.RadioSelect, initial="")
    contact_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    contact_email = forms.EmailField(label=_("Email"), required=False, max_length=254,
                                     widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    contact_phone = forms.RegexField(
        label=_("Phone"), required=False, max_length=30, regex=r"^\+?[0-9 ()-]{6,30}$",
        error_messages={"invalid": _("Give a phone number with digits only, e.g. +358 40 123 4567.")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    consent = forms.BooleanField(
        label=_("I agree that my name and contact details are used only to send me messages about this "
                "evening. They are deleted automatically after the evening."), required=False)

    def __init__(self, *args, evening: ParentEvening, language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(lang.code, f"{lang.native_name} – {lang.name}")
                                           for lang in evening.languages.all()]
        # Only channels that can send now: text messages (and the phone field) appear once an SMS
        # operator is configured (messaging.SmsChannel).
        channels = messaging.available_channels()
        self.fields["channel"].choices = [("", _("No, thank you")),
                                          *((name, self.CHANNEL_CHOICES[name]) for name in channels)]
        self.offers_sms = ContactChannel.SMS in channels
        if not self.offers_sms:
            del self.fields["contact_phone"]
        if language:
            self.fields["language"].initial = language

    def to_input(self) -> RegistrationInput:
        data = self.cleaned_data
        return RegistrationInput(
            language_code=data["language"], adults=data["adults"], children=data["children"] or 0,
            interpreter_needed=data["interpreter_needed"], childcare_needed=data["childcare_needed"],
            accessibility_needs=data["accessibility_needs"], channel=data["channel"] or "",
            contact_name=data["contact_name"], contact_email=data["contact_email"],
            contact_phone=data.get("contact_phone", ""), consent=data["consent"],
        )


class FeedbackForm(HoneypotMixin):
    score = forms.TypedChoiceField(label=_("How useful was the evening? (1 = not at all, 10 = very)"),
                                   choices=[(n, str(n)) for n in range(1, 11)], coerce=int,
                                   widget=forms.RadioSelect)
    useful = forms.CharField(label=_("What was useful?"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    missing = forms.CharField(label=_("What was missing?"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, cancel our registration"))


# --- Staff forms ---------------------------------------------------------------------------------


class EveningForm(forms.ModelForm):
    class Meta:
        model = ParentEvening
        fields = ["title", "area", "schools", "date", "start_time", "end_time", "venue_name", "venue_address",
                  "accessibility_info", "programme", "capacity", "waiting_list_limit", "status"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "schools": forms.CheckboxSelectMultiple,
            "accessibility_info": forms.Textarea(attrs={"rows": 3}),
            "programme": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools if schools is not None else School.objects.all()

    def clean(self):
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["start_time"] >= data["end_time"]:
            self.add_error("end_time", _("The evening must end after it starts."))
        return data


class AddLanguageForm(forms.Form):
    code = forms.CharField(label=_("Language code (ISO 639)"), max_length=10,
                           help_text=_("For example ar, so, ru, et, fa, prs, ckb, uk, sq, vi, zh, ti."))

    def clean_code(self):
        return languages.normalise_code(self.cleaned_data["code"])


class LanguageForm(forms.ModelForm):
    class Meta:
        model = EveningLanguage
        fields = ["title", "invitation_text", "message_text", "translation_status", "room", "capacity",
                  "needs_interpreter"]
        widgets = {"invitation_text": forms.Textarea(attrs={"rows": 8}),
                   "message_text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.instance.code
        for name in ("title", "invitation_text", "message_text"):
            self.fields[name].widget.attrs.update({"lang": code, "dir": languages.direction(code)})
        self.fields["invitation_text"].help_text = _(
            "Write in the language itself. Placeholders: {date}, {time}, {place}, {registration_link}.")

    def clean_invitation_text(self):
        text = self.cleaned_data["invitation_text"]
        unknown = invitations.unknown_placeholders(text)
        if unknown:
            raise ValidationError(_("Unknown placeholder: %(names)s. Use {date}, {time}, {place} or "
                                    "{registration_link}.") % {"names": ", ".join(f"{{{n}}}" for n in unknown)})
        return text

    def clean_message_text(self):
        text = self.cleaned_data["message_text"]
        unknown = invitations.unknown_placeholders(text, invitations.MESSAGE_PLACEHOLDERS)
        if unknown:
            raise ValidationError(_("Unknown placeholder: %(names)s.") % {
                "names": ", ".join(f"{{{n}}}" for n in unknown)})
        return text


class BookingForm(forms.ModelForm):
    class Meta:
        model = InterpreterBooking
        fields = ["kind", "provider", "name", "contact", "status"]


class HeadCountForm(forms.Form):
    head_count = forms.IntegerField(label=_("Head count"), min_value=0, max_value=10000, required=False)


class CheckInForm(forms.Form):
    code = forms.CharField(label=_("Registration code"), max_length=12,
                           widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}))


class AgencyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "kind", "contact_name", "contact_email", "contact_phone", "active"]


class LinkAgencyForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.filter(active=True))
    contact_person = forms.CharField(label=_("Contact person at the evening"), max_length=200, required=False)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ParentEveningSettings
        fields = ["anonymise_after_days", "reminder_days_before"]
