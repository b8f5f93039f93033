"""REST API of the notification centre: the signed-in user's own notifications in this municipality.

Only the recipient sees a notification (every query filters on the signed-in user, so another
user's id is a 404). Notification texts name no pupil, so reads are not audited (as in
welfare.views_notifications).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from welfare.models import Notification
from welfare.services.notifications import mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "created_at", "kind", "title", "body", "url", "read_at"]
        read_only_fields = fields


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True,
                                      help_text="true: only unread notifications; false: only read ones.")


@extend_schema_view(
    list=extend_schema(
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True),
                   400: OpenApiResponse(description="A query parameter is not valid; the body names it and says why.")},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's notifications here, newest first. POST {id}/read/ marks one read."""

    serializer_class = NotificationSerializer

    def get_permissions(self):
        from welfare.api import IsMunicipalityStaff

        return [IsMunicipalityStaff()]

    def get_queryset(self):
        return Notification.objects.filter(recipient_id=self.request.user.pk).order_by("-created_at", "-id")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        params = NotificationFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        unread = params.validated_data.get("unread")
        if unread is None:
            return queryset
        return queryset.filter(read_at__isnull=unread)

    @extend_schema(request=None, responses={
        200: NotificationSerializer, 404: OpenApiResponse(description="No such notification of this user.")})
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request, pk=None):
        """Mark one of the user's own notifications read (already read: unchanged)."""
        notification = self.get_object()
        mark_read(request.user.pk, [notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)
