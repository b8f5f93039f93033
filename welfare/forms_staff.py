"""Forms of the staff pages: filter the list, grant a role, invite a person."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from welfare.accounts.models import User
from welfare.models import MUNICIPAL_ROLES, Role, School, TeachingGroup
from welfare.selectors_staff import grantable_groups

# The languages a user can be written to in (accounts.User.preferred_language).
LANGUAGE_CHOICES = User._meta.get_field("preferred_language").choices


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, group: TeachingGroup) -> str:
        return f"{group.name} ({group.school.name})"


class RoleGrantForm(forms.Form):
    """One role grant: the role, its school (unless municipal) and a class teacher's groups.

    The groups offered are the current school year's; once a school is chosen, only its groups.
    """

    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *Role.choices])
    school = forms.ModelChoiceField(
        label=_("School"),
        queryset=School.objects.order_by("name"),
        required=False,
        empty_label=_("Municipality-wide"),
        help_text=_("Required unless the role is municipality-wide: coordinator, municipal administrator or "
                    "data protection officer."),
        widget=forms.Select(attrs={
            # htmx (no inline script): when the school changes, offer that school's groups only.
            "hx-get": reverse_lazy("staff:groups"),
            "hx-target": "#groups-field",
            "hx-swap": "outerHTML",
            "hx-trigger": "change",
        }),
    )
    groups = GroupChoiceField(
        label=_("Groups (class teachers)"),
        queryset=TeachingGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A class teacher sees the pupils of these groups. Groups of the current school year."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = grantable_groups(self._chosen_school())

    def _chosen_school(self):
        value = self.data.get(self.add_prefix("school")) if self.is_bound else self.initial.get("school")
        if isinstance(value, School):
            return value
        try:
            return School.objects.filter(pk=int(value)).first() if value else None
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if not role:
            return cleaned
        if role in MUNICIPAL_ROLES:
            cleaned["school"] = None
            cleaned["groups"] = []
            return cleaned
        school = cleaned.get("school")
        if school is None and "school" not in self.errors:
            self.add_error("school", _("Choose the school for this role."))
        if role != Role.CLASS_TEACHER:
            cleaned["groups"] = []
            return cleaned
        groups = cleaned.get("groups") or []
        if school is not None and any(group.school_id != school.pk for group in groups):
            self.add_error("groups", _("Choose groups of the chosen school only."))
        elif school is not None and not groups and "groups" not in self.errors:
            self.add_error("groups", _("Choose at least one group for a class teacher."))
        return cleaned


class InviteForm(RoleGrantForm):
    """A person by email, and their first role here."""

    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}),
                             help_text=_("If someone already uses this address in Yhdessä (for example a "
                                         "counsellor of the wellbeing services county), the role is added to "
                                         "their existing account."))
    first_name = forms.CharField(label=_("First name"), max_length=150,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = forms.CharField(label=_("Last name"), max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=LANGUAGE_CHOICES, initial="fi")

    field_order = ["email", "first_name", "last_name", "language", "role", "school", "groups"]
    person_fields = ("email", "first_name", "last_name", "language")

    def person(self):
        """The person's fields (the role's come from ``_role_fields.html``)."""
        return [self[name] for name in self.person_fields]


class StaffFilterForm(forms.Form):
    """The list's filters (GET)."""

    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.order_by("name"), required=False,
                                    empty_label=_("All schools"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("All roles")), *Role.choices], required=False)
    history = forms.BooleanField(label=_("Show revoked roles (history)"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
