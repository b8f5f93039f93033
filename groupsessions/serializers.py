"""Serializers of the group sessions API. Communal data only: no pupil appears in any of them."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from groupsessions.models import CohortGroup, GroupSession, NotHeldReason, SessionStaff, SessionStatus, Topic
from welfare.models import Role
from welfare.serializers import MAX_ID

EARLIEST, LATEST = 2000, 2100  # keeps time zone arithmetic far from datetime's limits


def _id(help_text: str, required: bool = True) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=required, help_text=help_text)


def _bounded(value: datetime) -> datetime:
    if not EARLIEST <= value.year <= LATEST:
        raise serializers.ValidationError(f"Give a time between the years {EARLIEST} and {LATEST}.")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class CohortGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = CohortGroup
        fields = ["id", "school", "school_year", "teaching_group", "name", "source", "reason"]


class CohortGroupCreateSerializer(serializers.Serializer):
    """A group the school adds by hand: a register group of the school (``teaching_group``) or a name."""

    school = _id("The school (RECORD_GROUP_SESSION there).")
    school_year = _id("The school year.")
    teaching_group = _id("A teaching group of the school in that school year.", required=False)
    name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CohortGroupFilterSerializer(serializers.Serializer):
    school = _id("Only groups of this school.", required=False)
    school_year = _id("Only groups of this school year.", required=False)

    def filters(self) -> dict:
        return {f"{key}_id": value for key, value in self.validated_data.items()}


class CoverageFilterSerializer(serializers.Serializer):
    school_year = _id("The school year (default: the current one).", required=False)


class CoverageSerializer(serializers.Serializer):
    """One school's coverage. Group counts are classes, not people; ``pupils_met`` and
    ``feedback_responses`` are published through small-number suppression ("<5", "×")."""

    school = serializers.IntegerField()
    school_name = serializers.CharField()
    school_year = serializers.IntegerField()
    deadline = serializers.DateField()
    to_meet = serializers.IntegerField()
    met = serializers.IntegerField()
    met_by_deadline = serializers.IntegerField()
    planned = serializers.IntegerField()
    overdue = serializers.IntegerField()
    overdue_groups = serializers.ListField(child=serializers.CharField())
    pupils_met = serializers.CharField()
    feedback_responses = serializers.CharField()


class SessionStaffSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = SessionStaff
        fields = ["user_id", "role"]


class GroupSessionSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="cohort_group.name", read_only=True)
    school = serializers.IntegerField(source="cohort_group.school_id", read_only=True)
    school_year = serializers.IntegerField(source="cohort_group.school_year_id", read_only=True)
    staff = SessionStaffSerializer(many=True, read_only=True)
    topics = serializers.ListField(child=serializers.ChoiceField(choices=Topic.choices), read_only=True)
    not_held_reason = serializers.ChoiceField(choices=NotHeldReason.choices, allow_blank=True, read_only=True,
                                              help_text="Empty unless the session was not held.")
    feedback_url = serializers.SerializerMethodField()

    class Meta:
        model = GroupSession
        fields = ["id", "cohort_group", "group_name", "school", "school_year", "starts_at", "ends_at", "place",
                  "status", "not_held_reason", "pupils_present", "pupils_enrolled", "topics", "other_topics",
                  "staff", "feedback_url", "feedback_closes_at", "recorded_at"]
        read_only_fields = fields

    def get_feedback_url(self, session) -> str:
        path = reverse("groupsessions:feedback", args=[session.feedback_token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ConflictSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    session = serializers.IntegerField(help_text="The other session (possibly at another school).")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class PlannedSessionSerializer(GroupSessionSerializer):
    warnings = serializers.SerializerMethodField(
        help_text="Double-bookings: a staff member attends another session at an overlapping time. Saved anyway.")

    class Meta(GroupSessionSerializer.Meta):
        fields = [*GroupSessionSerializer.Meta.fields, "warnings"]
        read_only_fields = fields

    def get_warnings(self, session) -> list[dict]:
        conflicts = self.context.get("conflicts", [])
        return ConflictSerializer([{"user_id": c.user_id, "session": c.session.pk, "starts_at": c.session.starts_at,
                                    "ends_at": c.session.ends_at} for c in conflicts], many=True).data


class SessionPlanSerializer(serializers.Serializer):
    """Plan a session for a group to meet (RECORD_GROUP_SESSION at the group's school)."""

    cohort_group = _id("The group to meet (see cohort-groups).")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    staff = SessionStaffSerializer(many=True, required=False, default=list)

    def validate_starts_at(self, value):
        return _bounded(value)

    def validate_ends_at(self, value):
        return _bounded(value)


class SessionRecordSerializer(serializers.Serializer):
    """Held (counts and topics, never names) or not held (with the reason)."""

    status = serializers.ChoiceField(choices=[SessionStatus.HELD, SessionStatus.NOT_HELD])
    not_held_reason = serializers.ChoiceField(choices=NotHeldReason.choices, required=False, allow_blank=True,
                                              default="")
    pupils_present = serializers.IntegerField(min_value=0, max_value=999, required=False, allow_null=True,
                                              default=None)
    pupils_enrolled = serializers.IntegerField(min_value=0, max_value=999, required=False, allow_null=True,
                                               default=None)
    topics = serializers.ListField(child=serializers.ChoiceField(choices=Topic.choices), required=False,
                                   default=list, max_length=len(Topic.choices))
    other_topics = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class SessionFilterSerializer(serializers.Serializer):
    school = _id("Only sessions of this school.", required=False)
    school_year = _id("Only sessions of this school year.", required=False)
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)

    def filters(self) -> dict:
        data, filters = self.validated_data, {}
        if "school" in data:
            filters["cohort_group__school_id"] = data["school"]
        if "school_year" in data:
            filters["cohort_group__school_year_id"] = data["school_year"]
        if "status" in data:
            filters["status"] = data["status"]
        return filters


class StatementResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    answered = serializers.CharField(source="answered_label", help_text='How many answered; "<5" for 1–4.')
    mean = serializers.FloatField(allow_null=True, help_text="Null when fewer than five answered this question.")
    distribution = serializers.ListField(child=serializers.IntegerField(),
                                         help_text="Answers 1..5; empty when fewer than five answered.")


class FeedbackSummarySerializer(serializers.Serializer):
    """Results with small-number suppression: under five responses only "<5" is published."""

    responses = serializers.CharField(help_text='The number of responses, "<5" for 1–4.')
    shown = serializers.BooleanField(help_text="False when fewer than five responses: no per-question results.")
    statements = StatementResultSerializer(many=True)
    open_answers = serializers.ListField(
        child=serializers.CharField(), allow_null=True,
        help_text="Only for the school's welfare staff (VIEW_OPEN_FEEDBACK) and from five responses up; "
                  "null for others.")
