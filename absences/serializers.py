"""Serializers of absence follow-up's API."""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from absences.models import AbsenceImport


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
