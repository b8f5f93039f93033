"""Forms of group sessions: plan, record, follow-up, add a group by hand, settings, pupil feedback."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from groupsessions.feedback import OPEN_QUESTION, SCALE, STATEMENTS
from groupsessions.models import NotHeldReason, SessionStatus, Topic
from groupsessions.services import StaffPick
from welfare.forms import ServiceErrorsMixin

NO_NAMES = _("Communal data only: do not write pupils' names or anything that identifies a pupil.")


def _aware(day, clock: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock), timezone.get_current_timezone())


class PlanForm(ServiceErrorsMixin, forms.Form):
    """Date, time, place and the attending staff. A double-booking shows as a warning that the
    planner confirms with ``confirm_overlap``."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=120, required=False,
                            help_text=_("For example the classroom or the school library."))
    staff = forms.MultipleChoiceField(label=_("Welfare staff attending"), required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text=_("Staff members of this school by role and name."))
    confirm_overlap = forms.BooleanField(label=_("Save anyway: I know a staff member is booked at the same time"),
                                         required=False)

    def __init__(self, *args, staff_options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(option.value, option.label) for option in staff_options]

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("day"), cleaned.get("start"), cleaned.get("end")
        if day and start and end:
            if end <= start:
                self.add_error("end", _("The session must end after it starts."))
            cleaned["starts_at"], cleaned["ends_at"] = _aware(day, start), _aware(day, end)
        return cleaned

    def staff_picks(self) -> list[StaffPick]:
        picks = []
        for value in self.cleaned_data.get("staff", []):
            user_id, role = value.split(":", 1)
            picks.append(StaffPick(int(user_id), role))
        return picks

    @staticmethod
    def initial_for(session, options) -> dict:
        start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
        chosen = {(row.user_id, row.role) for row in session.staff.all()}
        return {"day": start.date(), "start": start.time(), "end": end.time(), "place": session.place,
                "staff": [o.value for o in options if (o.user_id, o.role) in chosen]}


class RecordForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(label=_("Was the session held?"), widget=forms.RadioSelect,
                               choices=[(SessionStatus.HELD, _("Yes, it was held")),
                                        (SessionStatus.NOT_HELD, _("No, it was not held"))])
    not_held_reason = forms.ChoiceField(label=_("Why was it not held?"), required=False,
                                        choices=[("", _("Choose…")), *NotHeldReason.choices],
                                        help_text=_("Required when the session was not held."))
    pupils_present = forms.IntegerField(label=_("Pupils present"), min_value=0, max_value=999, required=False,
                                        help_text=_("A number only, no names."))
    pupils_enrolled = forms.IntegerField(label=_("Pupils in the group"), min_value=0, max_value=999,
                                         required=False)
    topics = forms.MultipleChoiceField(label=_("Topics covered"), required=False, choices=Topic.choices,
                                       widget=forms.CheckboxSelectMultiple)
    other_topics = forms.CharField(label=_("Other topics the group raised"), required=False, max_length=1000,
                                   widget=forms.Textarea(attrs={"rows": 3}), help_text=NO_NAMES)

    @staticmethod
    def initial_for(session, enrolled_guess: int | None) -> dict:
        return {"status": session.status if session.status != SessionStatus.PLANNED else "",
                "not_held_reason": session.not_held_reason, "pupils_present": session.pupils_present,
                "pupils_enrolled": session.pupils_enrolled if session.pupils_enrolled is not None else enrolled_guess,
                "topics": session.topics or list(Topic.values), "other_topics": session.other_topics}


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("What should be followed up?"), max_length=150,
                            help_text=_('For example "Break-time bullying was raised".'))
    description = forms.CharField(label=_("Details (optional)"), required=False, max_length=1000,
                                  widget=forms.Textarea(attrs={"rows": 2}), help_text=NO_NAMES)
    month = forms.DateField(label=_("Month for the annual clock"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))


class AddGroupForm(ServiceErrorsMixin, forms.Form):
    teaching_group = forms.TypedChoiceField(label=_("A group of the school"), required=False, coerce=int,
                                            empty_value=None)
    name = forms.CharField(label=_("Or the group's name"), max_length=60, required=False,
                           help_text=_("For example a preparatory class that is not in the register."))
    reason = forms.CharField(label=_("Why is the group added? (optional)"), max_length=200, required=False)

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teaching_group"].choices = [("", _("Choose…"))] + [
            (group.pk, group.name) for group in groups]


class SettingsForm(forms.Form):
    deadline_month = forms.TypedChoiceField(label=_("Deadline month"), coerce=int,
                                            choices=[(m, MONTHS[m]) for m in (8, 9, 10, 11, 12, 1, 2, 3, 4, 5)])
    deadline_day = forms.IntegerField(label=_("Deadline day"), min_value=1, max_value=31)
    feedback_days = forms.IntegerField(label=_("Feedback stays open (days after the session)"), min_value=1,
                                       max_value=90)


class FeedbackForm(forms.Form):
    """The pupils' anonymous form: four statements on a scale of 1–5 and one open question."""

    open_answer = forms.CharField(label=OPEN_QUESTION, required=False, max_length=600,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("You do not have to answer. Please do not write names."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        statements = {
            key: forms.TypedChoiceField(label=label, choices=SCALE, coerce=int, required=False, empty_value=None,
                                        widget=forms.RadioSelect)
            for key, label in STATEMENTS.items()}
        self.fields = {**statements, **self.fields}

    def statement_fields(self):
        return [self[key] for key in STATEMENTS]

    def answers(self) -> dict[str, int | None]:
        return {key: self.cleaned_data.get(key) for key in STATEMENTS}
