"""REST API of the core (read-only; data comes in through imports).

Served at /api/v1/ on a municipality's host only. Every endpoint first authorises
(IsMunicipalityStaff); pupil lists are already narrowed by the permission policy.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from welfare import audit, policy
from welfare.audit import AuditedViewSetMixin
from welfare.models import AuditAction, School, SchoolYear, TeachingGroup
from welfare.serializers import (
    SchoolSerializer,
    SchoolYearSerializer,
    StudentFilterSerializer,
    StudentSerializer,
    TeachingGroupFilterSerializer,
    TeachingGroupSerializer,
)


class IsMunicipalityStaff(permissions.BasePermission):
    """Authenticated and holding a role in the municipality this host serves.

    A token identifies a user across municipalities (tokens live in the public schema),
    so this check, not the token, decides which municipality's data it opens.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if policy.is_municipality_staff(request.user):
            return True
        audit.record(request, AuditAction.DENIED, object_type="api", detail={"method": request.method})
        return False


class MunicipalityViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only endpoint of one municipality's data.

    ``filter_serializer_class`` validates the list's query parameters; each validated
    value filters on the field of the same name (``<name>_id`` for a relation).
    """

    permission_classes = [IsMunicipalityStaff]
    filter_serializer_class: type[serializers.Serializer] | None = None

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list" or self.filter_serializer_class is None:
            return queryset
        params = self.filter_serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return queryset.filter(**params.validated_data)


BAD_FILTER = OpenApiResponse(description="A query parameter is not valid; the body names it and says why.")


class SchoolViewSet(MunicipalityViewSet):
    """Schools of the municipality."""

    queryset = School.objects.order_by("name", "id")
    serializer_class = SchoolSerializer


class SchoolYearViewSet(MunicipalityViewSet):
    """School years with their terms."""

    queryset = SchoolYear.objects.prefetch_related("terms").order_by("-start_date", "id")
    serializer_class = SchoolYearSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[TeachingGroupFilterSerializer],
        responses={200: TeachingGroupSerializer(many=True), 400: BAD_FILTER},
    )
)
class TeachingGroupViewSet(MunicipalityViewSet):
    """Teaching groups (classes) of the municipality's schools."""

    queryset = TeachingGroup.objects.order_by("grade", "name", "id")
    serializer_class = TeachingGroupSerializer
    filter_serializer_class = TeachingGroupFilterSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[StudentFilterSerializer],
        responses={200: StudentSerializer(many=True), 400: BAD_FILTER},
    )
)
class StudentViewSet(AuditedViewSetMixin, MunicipalityViewSet):
    """Pupils the signed-in user may see (need to know: own group, own school, served schools).

    Audited: a list writes a READ for every pupil on the page it returned, a retrieve for the one.

    Roles without a need to know pupils' identities (coordinator, administrator, data
    protection officer) get an empty list.
    """

    serializer_class = StudentSerializer
    filter_serializer_class = StudentFilterSerializer

    def get_queryset(self):
        return policy.visible_students(self.request.user).order_by("last_name", "first_name", "id")


def register(router) -> None:
    router.register("schools", SchoolViewSet, basename="school")
    router.register("school-years", SchoolYearViewSet, basename="school-year")
    router.register("groups", TeachingGroupViewSet, basename="group")
    router.register("students", StudentViewSet, basename="student")

    from welfare.api_notifications import NotificationViewSet

    router.register("notifications", NotificationViewSet, basename="notification")
