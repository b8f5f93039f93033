"""Serializers of the parent-evening API. No serializer exposes guardians' contact details."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers

from parentevenings import invitations, languages, links
from parentevenings.models import (
    BookingStatus,
    ContactChannel,
    EveningAgency,
    EveningLanguage,
    InterpreterBooking,
    ParentEvening,
    Registration,
)
from parentevenings.services.registrations import RegistrationInput


class InterpreterBookingSerializer(serializers.ModelSerializer):
    language = serializers.CharField(source="language.code", read_only=True)
    evening = serializers.IntegerField(source="language.evening_id", read_only=True)

    class Meta:
        model = InterpreterBooking
        fields = ["id", "evening", "language", "kind", "provider", "name", "contact", "status", "updated_at"]


class EveningLanguageSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="The language's name in the UI language.")
    direction = serializers.SerializerMethodField()
    interpreter_confirmed = serializers.SerializerMethodField()

    class Meta:
        model = EveningLanguage
        fields = ["id", "evening", "code", "name", "direction", "title", "translation_status", "room", "capacity",
                  "needs_interpreter", "interpreter_confirmed", "head_count"]

    def get_name(self, obj) -> str:
        return languages.display_name(obj.code)

    def get_direction(self, obj) -> str:
        return languages.direction(obj.code)

    def get_interpreter_confirmed(self, obj) -> bool:
        return any(booking.status == BookingStatus.CONFIRMED for booking in obj.bookings.all())


class EveningInvitationSerializer(serializers.ModelSerializer):
    """A language's invitation: the text as written (placeholders) and filled for guardians."""

    filled = serializers.SerializerMethodField()
    registration_url = serializers.SerializerMethodField()

    class Meta:
        model = EveningLanguage
        fields = ["id", "evening", "code", "title", "invitation_text", "message_text", "translation_status",
                  "registration_url", "filled"]

    def get_registration_url(self, obj) -> str:
        return links.base_url(self.context.get("request")) + links.language_path(obj)

    def get_filled(self, obj) -> str:
        return invitations.invitation(obj, self.get_registration_url(obj))


class EveningAgencySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="agency.name", read_only=True)
    kind = serializers.CharField(source="agency.kind", read_only=True)

    class Meta:
        model = EveningAgency
        fields = ["agency", "name", "kind", "contact_person"]


class ParentEveningSerializer(serializers.ModelSerializer):
    languages = EveningLanguageSerializer(many=True, read_only=True)
    agencies = EveningAgencySerializer(source="evening_agencies", many=True, read_only=True)
    schools = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = ParentEvening
        fields = ["id", "title", "area", "schools", "date", "start_time", "end_time", "venue_name", "venue_address",
                  "accessibility_info", "programme", "capacity", "waiting_list_limit", "status", "public_url",
                  "languages", "agencies"]

    def get_public_url(self, obj) -> str:
        return links.base_url(self.context.get("request")) + links.overview_path(obj)


class EveningRegistrationSerializer(serializers.ModelSerializer):
    """Staff side: codes, counts and needs; never names, addresses or phone numbers."""

    language = serializers.CharField(source="language.code", read_only=True)
    has_contact = serializers.BooleanField(source="contact_given", read_only=True,
                                           help_text="The family asked for messages and gave a contact.")

    class Meta:
        model = Registration
        fields = ["id", "evening", "code", "language", "adults", "children", "interpreter_needed",
                  "childcare_needed", "accessibility_needs", "status", "has_contact", "created_at", "promoted_at",
                  "cancelled_at", "checked_in_at"]


class EveningFilterSerializer(serializers.Serializer):
    evening = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                       help_text="Only this evening's rows.")


class EveningFeedbackSummarySerializer(serializers.Serializer):
    language = serializers.CharField()
    name = serializers.CharField()
    responses = serializers.CharField(help_text='Number of answers; "<5" for 1–4 (small-number suppression).')
    mean_score = serializers.CharField(help_text="Mean of the 1–10 scores; empty when fewer than five answers.")
    useful = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())


class PublicRegistrationSerializer(serializers.Serializer):
    """A family registers (no account). Contact details only when reminders are wanted."""

    evening = serializers.CharField(max_length=40, help_text="The evening's public token (from its public address).")
    language = serializers.CharField(max_length=10, help_text="ISO 639 code of one of the evening's languages.")
    adults = serializers.IntegerField(min_value=1, max_value=10)
    children = serializers.IntegerField(min_value=0, max_value=15, default=0)
    interpreter_needed = serializers.BooleanField(default=False)
    childcare_needed = serializers.BooleanField(default=False)
    accessibility_needs = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False, allow_blank=True, default="",
                                      help_text='"sms" only where an SMS operator is configured.')
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    contact_phone = serializers.RegexField(r"^\+?[0-9 ()-]{6,30}$", max_length=30, required=False,
                                           allow_blank=True, default="")
    consent = serializers.BooleanField(default=False)
    website = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                    help_text="Leave empty (a trap for bots).")

    def validate_language(self, value):
        try:
            return languages.normalise_code(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate_website(self, value):
        if value:
            raise serializers.ValidationError("Leave this field empty.")
        return value

    def to_input(self) -> RegistrationInput:
        data = self.validated_data
        return RegistrationInput(
            language_code=data["language"], adults=data["adults"], children=data["children"],
            interpreter_needed=data["interpreter_needed"], childcare_needed=data["childcare_needed"],
            accessibility_needs=data["accessibility_needs"], channel=data["channel"],
            contact_name=data["contact_name"], contact_email=data["contact_email"],
            contact_phone=data["contact_phone"], consent=data["consent"],
        )


class PublicRegistrationResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["confirmed", "waiting"])
    registration_url = serializers.CharField(help_text="The family's own page: status and cancellation.")
