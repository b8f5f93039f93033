"""REST API of the core (read-only; data comes in through imports)."""

from rest_framework import permissions, viewsets

from welfare import policy
from welfare.models import School, SchoolYear, TeachingGroup
from welfare.serializers import (
    SchoolSerializer,
    SchoolYearSerializer,
    StudentSerializer,
    TeachingGroupSerializer,
)


class IsMunicipalityStaff(permissions.BasePermission):
    """Authenticated and holding a role in the municipality this host serves."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and policy.is_municipality_staff(request.user))


class MunicipalityViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsMunicipalityStaff]


class SchoolViewSet(MunicipalityViewSet):
    """Schools of the municipality."""

    queryset = School.objects.all()
    serializer_class = SchoolSerializer


class SchoolYearViewSet(MunicipalityViewSet):
    """School years with their terms."""

    queryset = SchoolYear.objects.prefetch_related("terms")
    serializer_class = SchoolYearSerializer


class TeachingGroupViewSet(MunicipalityViewSet):
    """Teaching groups (classes) of the municipality's schools."""

    queryset = TeachingGroup.objects.all()
    serializer_class = TeachingGroupSerializer


class StudentViewSet(MunicipalityViewSet):
    """Pupils the signed-in user may see (need to know: own group, own school, served schools)."""

    serializer_class = StudentSerializer

    def get_queryset(self):
        return policy.visible_students(self.request.user).order_by("last_name", "first_name", "id")


def register(router) -> None:
    router.register("schools", SchoolViewSet, basename="school")
    router.register("school-years", SchoolYearViewSet, basename="school-year")
    router.register("groups", TeachingGroupViewSet, basename="group")
    router.register("students", StudentViewSet, basename="student")
