from rest_framework import serializers

from welfare.models import School, SchoolYear, Student, TeachingGroup, Term


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
