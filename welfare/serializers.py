"""Serializers of the core API, and the query filters its lists accept."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from welfare.models import School, SchoolYear, Student, TeachingGroup, Term

# Ids are bigint, grades smallint: bounding the filters keeps an out-of-range value a 400, never a database error.
MAX_ID = 2**63 - 1
MAX_GRADE = 32767


def inline_choice_field(choices, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField whose OpenAPI schema lists its values inline (no shared enum component)."""
    values = [value for value, _label in choices]
    if kwargs.get("allow_blank"):
        values.append("")

    # The description keeps the allOf wrapper (drf-spectacular unwraps a bare one-item allOf).
    description = str(kwargs.get("help_text") or "One of: " + ", ".join(repr(v) for v in values) + ".")

    @extend_schema_field({"allOf": [{"type": "string", "enum": values}], "description": description})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "external_id", "name", "school_type", "grade_min", "grade_max", "language", "area"]


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["id", "name", "start_date", "end_date"]


class SchoolYearSerializer(serializers.ModelSerializer):
    terms = TermSerializer(many=True, read_only=True)

    class Meta:
        model = SchoolYear
        fields = ["id", "name", "start_date", "end_date", "terms"]


class TeachingGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = TeachingGroup
        fields = ["id", "school", "school_year", "name", "grade"]


class StudentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Student
        fields = ["id", "external_id", "first_name", "last_name", "school", "grade", "group", "home_language"]


# --- Query filters ---------------------------------------------------------------------
# One serializer per list both validates the query string (a bad value is a 400 naming the
# parameter) and documents it: drf-spectacular explodes it into OpenAPI query parameters.


def _id_filter(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text=help_text)


def _grade_filter() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_GRADE, help_text="Only this grade (vuosiluokka); 0 is pre-primary."
    )


class StudentFilterSerializer(serializers.Serializer):
    school = _id_filter("Only pupils of the school with this id.")
    group = _id_filter("Only pupils of the teaching group with this id.")
    grade = _grade_filter()


class TeachingGroupFilterSerializer(serializers.Serializer):
    school = _id_filter("Only groups of the school with this id.")
    grade = _grade_filter()
    school_year = _id_filter("Only groups of the school year with this id.")
