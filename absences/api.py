"""REST API of absence follow-up: absence imports (POST a file; the history and one import).

Registered under /api/v1/absences/ by ``register(router)``. Every request first authorises
with the policy (Action.IMPORT_ABSENCES); principals see and import only their own school's
pupils (the service narrows the pupils), and see only their own imports.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from absences.models import AbsenceImport
from absences.serializers import AbsenceImportSerializer, AbsenceImportUploadSerializer
from absences.services import imports as service
from welfare import audit, policy
from welfare.models import AuditAction


class MayImportAbsences(permissions.BasePermission):
    """Signed in (session or token) and allowed to import absences somewhere in this municipality."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if policy.can(request.user, policy.Action.IMPORT_ABSENCES):
            return True
        audit.record(request, AuditAction.DENIED, object_type="absences.absenceimport",
                     detail={"method": request.method})
        return False


class AbsenceImportViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Absence imports. POST (multipart) uploads a file: small files are imported at once (201 with
    the counts, or 400 with every error as line, column, value, message: then nothing was written);
    large files are queued (202; poll the import until its status is done or failed)."""

    permission_classes = [MayImportAbsences]
    serializer_class = AbsenceImportSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        queryset = AbsenceImport.objects.order_by("-created_at", "-id")
        if policy.allowed_schools(self.request.user, policy.Action.IMPORT_ABSENCES) is None:
            return queryset
        return queryset.filter(user_id=self.request.user.pk)

    @extend_schema(
        request={"multipart/form-data": AbsenceImportUploadSerializer},
        responses={201: AbsenceImportSerializer, 202: AbsenceImportSerializer,
                   400: OpenApiResponse(OpenApiTypes.OBJECT, description=(
                       "Rejected, nothing written: the import with its errors (line, column, value, message), "
                       "or the request's own field errors (e.g. no file)."))},
    )
    def create(self, request, *args, **kwargs):
        upload = AbsenceImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        record = service.receive_upload(data["file"], file_name=data["file"].name, user=request.user,
                                        kind=data.get("kind"))
        if record.status == AbsenceImport.Status.PENDING and data.get("mapping"):
            errors = service.mapping_by_header(record, data["mapping"])
            if errors:
                record = service.fail(record, errors)
        record = service.start_import(record)
        code = {AbsenceImport.Status.DONE: status.HTTP_201_CREATED,
                AbsenceImport.Status.FAILED: status.HTTP_400_BAD_REQUEST}.get(record.status, status.HTTP_202_ACCEPTED)
        return Response(AbsenceImportSerializer(record).data, status=code)


def register(router) -> None:
    router.register("absences/imports", AbsenceImportViewSet, basename="absence-import")
