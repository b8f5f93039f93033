"""Serializers of the annual clock's API (component names start with "Clock" so they never collide
with other modules'). Choice sets are described inline, not as shared enum components."""

from __future__ import annotations

from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annualclock.models import (
    Activity,
    Clock,
    ClockTemplate,
    Evaluation,
    FeedToken,
    Recurrence,
    Ring,
    Status,
    TargetGroup,
)
from annualclock.selectors import school_staff_ids
from welfare.models import Role, SchoolType, SchoolYear
from welfare.serializers import MAX_ID, inline_choice_field


class ClockRingSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the request's language.")

    class Meta:
        model = Ring
        fields = ["id", "code", "name", "name_fi", "name_sv", "name_en", "color", "position", "active"]
        read_only_fields = fields


ACTIVITY_FIELDS = ["id", "clock", "template", "ring", "title", "title_fi", "title_sv", "title_en", "description_fi",
                   "description_sv", "description_en", "month_start", "month_end", "start_date", "end_date",
                   "recurrence", "owner_role", "owner_ids", "target_group", "target_grades", "target_note", "links",
                   "status", "source_label", "evaluated", "created_at", "updated_at"]


class ClockActivitySerializer(serializers.ModelSerializer):
    """An activity of a school's clock or of a template (exactly one of ``clock`` and ``template``).
    ``month_start``/``month_end`` are calendar months (1–12) read in school-year order (August first);
    ``start_date``/``end_date`` (clocks only) give exact dates instead."""

    clock = serializers.PrimaryKeyRelatedField(queryset=Clock.objects.all(), required=False, allow_null=True)
    template = serializers.PrimaryKeyRelatedField(queryset=ClockTemplate.objects.all(), required=False,
                                                  allow_null=True)
    ring = serializers.PrimaryKeyRelatedField(queryset=Ring.objects.all())
    title = serializers.CharField(read_only=True, help_text="In the request's language (or the first one given).")
    title_fi = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_sv = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description_fi = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    description_sv = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    description_en = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    month_start = serializers.IntegerField(min_value=1, max_value=12)
    month_end = serializers.IntegerField(min_value=1, max_value=12)
    recurrence = inline_choice_field(Recurrence.choices, required=False)
    owner_role = inline_choice_field(Role.choices, required=False, allow_blank=True)
    owner_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                      max_length=50, help_text="User ids of the named owners.")
    target_group = inline_choice_field(TargetGroup.choices, required=False)
    target_grades = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=13), required=False,
                                          max_length=14)
    target_note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    links = serializers.ListField(child=serializers.URLField(max_length=500), required=False, max_length=20,
                                  help_text="Web addresses (http or https).")
    status = inline_choice_field(Status.choices, required=False,
                                 help_text="planned, done or cancelled. Marking done with an evaluation: POST "
                                           "/annual-clock/evaluations/.")
    source_label = serializers.CharField(read_only=True)
    evaluated = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = ACTIVITY_FIELDS
        read_only_fields = ["id", "created_at", "updated_at", "source_label"]

    def get_evaluated(self, activity) -> bool:
        return hasattr(activity, "evaluation")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["links"] = instance.link_list()
        return data

    def validate_links(self, value):
        validate = URLValidator(schemes=["http", "https"])
        for link in value:
            validate(link)
        return "\n".join(value)

    def validate(self, attrs):
        clock = attrs.get("clock", getattr(self.instance, "clock", None))
        template = attrs.get("template", getattr(self.instance, "template", None))
        if self.instance is not None and ("clock" in attrs or "template" in attrs):
            if attrs.get("clock", self.instance.clock) != self.instance.clock or \
                    attrs.get("template", self.instance.template) != self.instance.template:
                raise serializers.ValidationError(_("An activity cannot move to another clock or template."))
        if (clock is None) == (template is None):
            raise serializers.ValidationError(_("Give exactly one of clock and template."))
        if attrs.get("owner_ids"):
            self._check_owners(attrs["owner_ids"], clock)
        return attrs

    def _check_owners(self, owner_ids: list[int], clock: Clock | None) -> None:
        """Named owners are the clock's school's staff (as the form's choices), or owners the
        activity already has. Anyone else's id would put a name from the users shared by every
        municipality on the activity's page. A template has no named owners."""
        allowed = school_staff_ids(clock.school_id) if clock is not None else set()
        allowed |= set(getattr(self.instance, "owner_ids", None) or [])
        unknown = [pk for pk in owner_ids if pk not in allowed]
        if unknown:
            message = serializers.ChoiceField.default_error_messages["invalid_choice"]
            raise serializers.ValidationError({"owner_ids": [message.format(input=pk) for pk in unknown[:5]]})


class ClockSerializer(serializers.ModelSerializer):
    """A school's clock for a school year. POST makes an empty clock, or a copy of an earlier clock of
    the same school (``copy_from``); adopting a template: POST /annual-clock/templates/{id}/adopt/."""

    school_name = serializers.CharField(source="school.name", read_only=True)
    school_year_name = serializers.CharField(source="school_year.name", read_only=True)
    copy_from = serializers.PrimaryKeyRelatedField(queryset=Clock.objects.all(), required=False, allow_null=True,
                                                   write_only=True)
    school_year = serializers.PrimaryKeyRelatedField(queryset=SchoolYear.objects.all())
    reminder_days = serializers.IntegerField(min_value=1, max_value=60, required=False, allow_null=True)

    class Meta:
        model = Clock
        fields = ["id", "school", "school_name", "school_year", "school_year_name", "template", "copied_from",
                  "copy_from", "reminder_days", "created_at"]
        read_only_fields = ["id", "template", "copied_from", "created_at"]
        validators = []  # the one-clock-per-school-year rule is answered by the view (400 with a message)


class ClockTemplateSerializer(serializers.ModelSerializer):
    school_type = inline_choice_field(SchoolType.choices, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    activities = ClockActivitySerializer(many=True, read_only=True)

    class Meta:
        model = ClockTemplate
        fields = ["id", "name", "school_type", "description", "activities", "created_at", "updated_at"]
        read_only_fields = ["id", "activities", "created_at", "updated_at"]


class AdoptSerializer(serializers.Serializer):
    school = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    school_year = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class ClockEvaluationSerializer(serializers.ModelSerializer):
    """How a done activity went. POST marks the activity done with this evaluation (or updates it)."""

    activity = serializers.PrimaryKeyRelatedField(queryset=Activity.objects.filter(clock__isnull=False))
    what_happened = serializers.CharField(max_length=5000)
    reach = serializers.IntegerField(min_value=0, max_value=100000, required=False, allow_null=True,
                                     help_text="About how many people took part (no names).")
    next_year = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    class Meta:
        model = Evaluation
        fields = ["id", "activity", "what_happened", "reach", "next_year", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []


class ClockFeedSerializer(serializers.ModelSerializer):
    """A calendar feed. ``url`` (with the secret) is only in the answer that made the feed."""

    kind = inline_choice_field(FeedToken.Kind.choices)
    clock = serializers.PrimaryKeyRelatedField(queryset=Clock.objects.all(), required=False, allow_null=True)
    url = serializers.SerializerMethodField()
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = FeedToken
        fields = ["id", "kind", "clock", "created_at", "revoked_at", "last_used_at", "active", "url"]
        read_only_fields = ["id", "created_at", "revoked_at", "last_used_at", "active", "url"]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True,
                          "description": "The https address of the feed; only when the feed was just made."})
    def get_url(self, feed):
        return self.context.get("urls", {}).get(feed.pk)

    def validate(self, attrs):
        if attrs["kind"] == FeedToken.Kind.CLOCK and not attrs.get("clock"):
            raise serializers.ValidationError({"clock": _("Choose a clock.")})
        if attrs["kind"] == FeedToken.Kind.PERSON:
            attrs["clock"] = None
        return attrs
