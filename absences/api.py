"""REST API of absence follow-up, registered under /api/v1/absences/ by ``register(router)``.

* imports/: POST a file; the history and one import. Authorised with Action.IMPORT_ABSENCES;
  principals see and import only their own school's pupils and see only their own imports.
* records/: daily absence records the user may see (Action.VIEW_PUPIL_ABSENCES), audited.
* cases/: cases the user may see (same filter), audited; one case needs Action.OPEN_ABSENCE_CASE
  and, for browser sessions, a recent second factor; cases/{id}/actions/ logs an action
  (Action.LOG_CASE_ACTION) through absences.services.cases.
* policies/: the threshold policies (read-only).

Who gets in: every endpoint but imports first requires a role in the municipality this host
serves (IsMunicipalityStaff), so a token of another municipality's user is refused (403).
Need to know: lists are narrowed by the permission policy; a case outside it is a 404.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from absences import selectors_cases
from absences.models import AbsenceCase, AbsenceImport, AbsenceRecord, Escalation, PolicyVersion, ThresholdPolicy
from absences.selectors import active_policy_version, visible_imports
from absences.serializers import (
    AbsenceCaseFilterSerializer,
    AbsenceCaseSerializer,
    AbsenceImportSerializer,
    AbsenceImportUploadSerializer,
    AbsenceRecordFilterSerializer,
    AbsenceRecordSerializer,
    CaseActionSerializer,
    CaseEntrySerializer,
    ThresholdPolicySerializer,
)
from absences.services import cases as case_service
from absences.services import imports as service
from welfare import audit, mfa, policy
from welfare.api import BAD_FILTER, IsMunicipalityStaff
from welfare.audit import AuditedViewSetMixin
from welfare.models import AuditAction
from welfare.policy import Action


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
        return visible_imports(self.request.user)

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


def _validated_filters(serializer_class, request) -> dict:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.filters()


@extend_schema_view(
    list=extend_schema(parameters=[AbsenceRecordFilterSerializer],
                       responses={200: AbsenceRecordSerializer(many=True), 400: BAD_FILTER}),
)
class AbsenceRecordViewSet(AuditedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Daily absence records (lesson hours per day and category) of the pupils whose absences the user
    may see: a class teacher their groups, a principal their school, welfare staff their served
    schools (or caseload). Roles without a need to know get an empty list.

    Audited: a list writes a READ for every record on the page it returned (with its pupil)."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = AbsenceRecordSerializer

    def get_queryset(self):
        queryset = AbsenceRecord.objects.select_related("category").order_by("-date", "student_id", "category_id")
        return policy.filter_queryset(self.request.user, Action.VIEW_PUPIL_ABSENCES, queryset,
                                      school="student__school", group="student__group", student="student")

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).filter(**_validated_filters(AbsenceRecordFilterSerializer,
                                                                             self.request))


STEP_UP_REQUIRED = "step-up required"
NOT_FOUND = OpenApiResponse(description="No such case, or not one the user may open (need to know).")
FORBIDDEN_CASE = OpenApiResponse(description=(
    "Session (browser) requests only: the second factor was not given recently enough; the detail is "
    f'"{STEP_UP_REQUIRED}" (sign in again with the authenticator code). Also: no role in this municipality.'))


@extend_schema_view(
    list=extend_schema(parameters=[AbsenceCaseFilterSerializer],
                       responses={200: AbsenceCaseSerializer(many=True), 400: BAD_FILTER}),
    retrieve=extend_schema(responses={200: AbsenceCaseSerializer, 403: FORBIDDEN_CASE, 404: NOT_FOUND}),
)
class AbsenceCaseViewSet(AuditedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Absence cases (one per pupil and counting period) with their escalations and timeline entries.

    The list holds the cases whose pupil's absences the user may see (Action.VIEW_PUPIL_ABSENCES);
    one case needs Action.OPEN_ABSENCE_CASE on it (otherwise 404, logged as DENIED).

    Second factor: a browser session must have given its second factor within the municipality's
    step-up limit before a case opens or an action is logged (otherwise 403 "step-up required").
    API tokens are issued by administrators to integrations only, and a token request is not asked
    for a second factor.

    Audited: a list writes a READ for every case on the page, a case a READ, an action a CREATE.
    """

    permission_classes = [IsMunicipalityStaff]
    serializer_class = AbsenceCaseSerializer

    def get_queryset(self):
        escalations = selectors_cases.with_reaction(Escalation.objects.all()).order_by("reached_at", "id")
        return (selectors_cases.visible_cases(self.request.user)
                .select_related("student")
                .prefetch_related(Prefetch("escalations", queryset=escalations), "entries")
                .order_by("-opened_at", "-id"))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        return queryset.filter(**_validated_filters(AbsenceCaseFilterSerializer, self.request))

    def _require_step_up(self) -> None:
        request = self.request
        if isinstance(request.successful_authenticator, SessionAuthentication) and mfa.needs_step_up(request):
            raise exceptions.PermissionDenied(STEP_UP_REQUIRED)

    def _case(self, action: Action) -> AbsenceCase:
        """The case if the user may take ``action`` on it; otherwise DENIED in the audit log and 404."""
        case = self.get_object()
        if not policy.can(self.request.user, action, case):
            self.__dict__.pop("_audit_objects", None)
            audit.record(self.request, AuditAction.DENIED, object_type="absences.absencecase",
                         object_id=str(case.pk), student_id=case.student_id, detail={"api": self.action})
            raise exceptions.NotFound
        return case

    def retrieve(self, request, *args, **kwargs):
        self._require_step_up()
        return Response(self.get_serializer(self._case(Action.OPEN_ABSENCE_CASE)).data)

    @extend_schema(
        request=CaseActionSerializer,
        responses={201: CaseEntrySerializer,
                   400: OpenApiResponse(OpenApiTypes.OBJECT, description=(
                       "Not logged: the field errors ({field: [messages]}), or non_field_errors "
                       "(e.g. the case is closed).")),
                   403: FORBIDDEN_CASE, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="actions", parser_classes=[JSONParser, FormParser,
                                                                                MultiPartParser])
    def actions(self, request, pk=None):
        """Log an action on the case (Action.LOG_CASE_ACTION): 201 with the new timeline entry."""
        self._require_step_up()
        case = self._case(Action.OPEN_ABSENCE_CASE)
        self.__dict__.pop("_audit_objects", None)  # the entry is audited below, not the case as "created"
        if not policy.can(request.user, Action.LOG_CASE_ACTION, case):
            raise exceptions.PermissionDenied
        payload = CaseActionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        entry = case_service.log_action(
            case, user=request.user, author_role=selectors_cases.author_role(request.user, case),
            kind=data["kind"], occurred_on=data["occurred_on"], contact_method=data.get("contact_method", ""),
            referral_target=data.get("referral_target", ""), close_reason=data.get("close_reason", ""),
            note=data.get("note", ""))
        audit.record(request, AuditAction.CREATE, obj=entry, student_id=case.student_id,
                     detail={"api": "absence_case_action", "case": case.pk, "kind": entry.kind})
        return Response(CaseEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class MayReadPolicies(IsMunicipalityStaff):
    """Policy managers (Action.MANAGE_POLICIES), and staff who may see pupils' absences somewhere."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        user = request.user
        if policy.can(user, Action.MANAGE_POLICIES) or policy.can(user, Action.VIEW_PUPIL_ABSENCES):
            return True
        audit.record(request, AuditAction.DENIED, object_type="absences.thresholdpolicy",
                     detail={"method": request.method})
        return False


@extend_schema_view(
    list=extend_schema(responses={200: ThresholdPolicySerializer(many=True),
                                  403: OpenApiResponse(description="Neither a policy manager nor a reader.")}),
    retrieve=extend_schema(responses={200: ThresholdPolicySerializer,
                                      403: OpenApiResponse(description="Neither a policy manager nor a reader."),
                                      404: OpenApiResponse(description="No such policy shown to this user.")}),
)
class ThresholdPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """The municipality's absence threshold policies with their versions, grade bands and steps.

    Who sees what: policy managers (Action.MANAGE_POLICIES: the municipal administrator) see every
    policy with every version, drafts included (``published_at`` null). Staff who may see pupils'
    absences (Action.VIEW_PUPIL_ABSENCES: teachers, principals, welfare staff) see only the policy in
    use with its current version: the steps they work by. Everyone else is refused (403).
    Policies hold no pupil data, so reads are not audited.
    """

    permission_classes = [MayReadPolicies]
    serializer_class = ThresholdPolicySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return ThresholdPolicy.objects.none()
        versions = PolicyVersion.objects.prefetch_related("bands__steps").order_by("-number")
        queryset = ThresholdPolicy.objects.order_by("-created_at", "-id")
        if not policy.can(self.request.user, Action.MANAGE_POLICIES):
            current = active_policy_version()
            if current is None:
                return queryset.none()
            queryset = queryset.filter(pk=current.policy_id)
            versions = versions.filter(pk=current.pk)
        return queryset.prefetch_related(Prefetch("versions", queryset=versions))


def register(router) -> None:
    router.register("absences/imports", AbsenceImportViewSet, basename="absence-import")
    router.register("absences/records", AbsenceRecordViewSet, basename="absence-record")
    router.register("absences/cases", AbsenceCaseViewSet, basename="absence-case")
    router.register("absences/policies", ThresholdPolicyViewSet, basename="absence-policy")
