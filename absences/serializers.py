"""Serializers of absence follow-up's API."""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from absences.models import (
    AbsenceCase,
    AbsenceCategory,
    AbsenceImport,
    AbsenceRecord,
    CaseEntry,
    Escalation,
    EscalationStep,
    GradeBand,
    PolicyVersion,
    ThresholdPolicy,
)
from absences.selectors_cases import ACTION_KINDS
from welfare.models import Role
from welfare.serializers import MAX_ID, inline_choice_field


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class AbsenceImportSerializer(serializers.ModelSerializer):
    """An import with its counts; ``errors`` holds the first 1,000 problems (``error_count`` all)."""

    errors = ImportErrorSerializer(many=True, read_only=True)

    class Meta:
        model = AbsenceImport
        fields = ["id", "kind", "status", "progress", "created_at", "finished_at", "user_email", "file_name",
                  "file_sha256", "size_bytes", "range_start", "range_end", "rows_total", "rows_created",
                  "rows_replaced", "rows_removed", "rows_unchanged", "error_count", "errors"]
        read_only_fields = fields


class AbsenceImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (Wilma/Primus export) or XLSX."))
    kind = serializers.ChoiceField(choices=AbsenceImport.Kind.choices, required=False,
                                   help_text=_("Detected from the columns when left out."))
    mapping = serializers.JSONField(
        required=False,
        help_text=_('Optional {"header as in the file": field}; fields: student, date, hours, category, '
                    "period_start, period_end, ignore. Headers not given are mapped from their names."))

    def validate_mapping(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise serializers.ValidationError(_("Give the mapping as a JSON object.")) from exc
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str | None)
                                                  for k, v in value.items()):
            raise serializers.ValidationError(_('Give the mapping as {"header": "field"}.'))
        return value


# --- Absence records, cases, policies ------------------------------------------------------------
# Several models here have a ``kind`` (and roles appear as one value and as a list). Their choice sets
# are described inline (``allOf``) rather than as named enum components, so that drf-spectacular's
# enum naming never has to resolve a collision between them and the import's ``kind``.



class AbsenceRecordSerializer(serializers.ModelSerializer):
    """Lesson hours of one pupil on one day in one category (``category`` is the category's code)."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AbsenceRecord
        fields = ["student", "date", "category", "hours", "source_import"]  # the key: student, date, category
        read_only_fields = fields


class AbsenceRecordFilterSerializer(serializers.Serializer):
    student = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text="Only the pupil with this id.")
    date_from = serializers.DateField(required=False, help_text="Only days on or after this date.")
    date_to = serializers.DateField(required=False, help_text="Only days on or before this date.")
    category = serializers.RegexField(r"^[-a-zA-Z0-9_]+$", max_length=40, required=False,
                                      help_text="Only this absence category (its code, e.g. unexplained).")

    def validate_category(self, value):
        if not AbsenceCategory.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("No absence category has this code."))
        return value

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": _("The end date is before the start date.")})
        return attrs

    def filters(self) -> dict:
        """The validated values as queryset lookups."""
        data = self.validated_data
        lookups = {"student_id": data.get("student"), "date__gte": data.get("date_from"),
                   "date__lte": data.get("date_to"), "category__code": data.get("category")}
        return {key: value for key, value in lookups.items() if value is not None}


class AbsenceCaseFilterSerializer(serializers.Serializer):
    student = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text="Only cases of the pupil with this id.")
    status = serializers.ChoiceField(choices=AbsenceCase.Status.choices, required=False,
                                     help_text="Only open or only closed cases.")

    def filters(self) -> dict:
        data = self.validated_data
        lookups = {"student_id": data.get("student"), "status": data.get("status")}
        return {key: value for key, value in lookups.items() if value is not None}


class EscalationSerializer(serializers.ModelSerializer):
    """A step (or an extra rule) the pupil reached. ``no_reaction``: past ``react_by`` with no action
    logged since the step was reached."""

    kind = inline_choice_field(Escalation.Kind.choices, read_only=True)
    responsible_role = inline_choice_field(Role.choices, read_only=True)
    no_reaction = serializers.SerializerMethodField()

    class Meta:
        model = Escalation
        fields = ["id", "kind", "level", "reached_on", "counted_value", "responsible_role", "react_by",
                  "first_action_at", "no_reaction"]
        read_only_fields = fields

    def get_no_reaction(self, obj) -> bool:
        has_action = getattr(obj, "has_action", None)
        if has_action is None:
            has_action = obj.first_action_at is not None
        return not has_action and obj.react_by < timezone.localdate()


class CaseEntrySerializer(serializers.ModelSerializer):
    """One entry of the case's timeline. A correction points to the entry it corrects (``corrects``)."""

    kind = inline_choice_field(CaseEntry.Kind.choices, read_only=True)
    contact_method = inline_choice_field(CaseEntry.ContactMethod.choices, allow_blank=True, read_only=True)
    referral_target = inline_choice_field(CaseEntry.ReferralTarget.choices, allow_blank=True, read_only=True)
    close_reason = inline_choice_field(CaseEntry.CloseReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = CaseEntry
        fields = ["id", "kind", "occurred_on", "created_at", "author_role", "contact_method", "referral_target",
                  "close_reason", "note", "corrects"]
        read_only_fields = fields


class AbsenceCaseSerializer(serializers.ModelSerializer):
    """One pupil's follow-up in one counting period, with its escalations and timeline entries."""

    escalations = EscalationSerializer(many=True, read_only=True)
    entries = CaseEntrySerializer(many=True, read_only=True)

    class Meta:
        model = AbsenceCase
        fields = ["id", "student", "period_start", "period_end", "status", "opened_at", "escalations", "entries"]
        read_only_fields = fields


ACTION_CHOICES = [(kind.value, kind.label) for kind in CaseEntry.Kind if kind.value in ACTION_KINDS]


class CaseActionSerializer(serializers.Serializer):
    """An action to log. ``guardian_contacted`` needs ``contact_method``, ``referral`` needs
    ``referral_target``, ``closed`` needs ``close_reason`` (and closes the case); other detail fields
    are ignored (minimum data). The note is short and must not hold health or family details."""

    kind = inline_choice_field(ACTION_CHOICES)
    occurred_on = serializers.DateField(help_text="When it happened (not in the future).")
    contact_method = inline_choice_field(CaseEntry.ContactMethod.choices, required=False, allow_blank=True)
    referral_target = inline_choice_field(CaseEntry.ReferralTarget.choices, required=False, allow_blank=True)
    close_reason = inline_choice_field(CaseEntry.CloseReason.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class EscalationStepSerializer(serializers.ModelSerializer):
    responsible_role = inline_choice_field(Role.choices, read_only=True)
    notified_roles = serializers.ListField(child=inline_choice_field(Role.choices), read_only=True)

    class Meta:
        model = EscalationStep
        fields = ["id", "level", "threshold", "name", "responsible_role", "notified_roles", "required_action",
                  "days_to_react"]
        read_only_fields = fields


class GradeBandSerializer(serializers.ModelSerializer):
    steps = EscalationStepSerializer(many=True, read_only=True)

    class Meta:
        model = GradeBand
        fields = ["id", "name", "grade_min", "grade_max", "steps"]
        read_only_fields = fields


class PolicyVersionSerializer(serializers.ModelSerializer):
    """A version; ``published_at`` null means a draft (shown to policy managers only)."""

    bands = GradeBandSerializer(many=True, read_only=True)
    scheduled_hours_per_week = serializers.DictField(child=serializers.FloatField(), read_only=True,
                                                     help_text=_("Scheduled lesson hours per week by grade."))

    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "created_at", "published_at", "counting_period", "check_dates",
                  "counted_categories", "unit", "scheduled_hours_per_week", "consecutive_days",
                  "unexplained_after_days", "bands"]
        read_only_fields = fields


class ThresholdPolicySerializer(serializers.ModelSerializer):
    versions = PolicyVersionSerializer(many=True, read_only=True)

    class Meta:
        model = ThresholdPolicy
        fields = ["id", "name", "preset", "created_at", "versions"]
        read_only_fields = fields
