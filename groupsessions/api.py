"""REST API of group sessions, registered under /api/v1/group-sessions/ by ``register(router)``.

* cohort-groups/: the groups to meet (derived from the register, plus those added by hand) of the
  schools whose coverage the user may see; POST adds one by hand (RECORD_GROUP_SESSION).
* coverage/: groups met / to meet per school for a school year; people counts suppressed under five.
* sessions/: the sessions the user may plan and record (RECORD_GROUP_SESSION); POST plans one (a
  double-booking comes back as ``warnings``, never a refusal); sessions/{id}/record/ records it;
  sessions/{id}/feedback/ gives the pupils' feedback results (open answers: VIEW_OPEN_FEEDBACK).

Who gets in: every endpoint requires a role in the municipality this host serves (IsMunicipalityStaff).
Communal data only: nothing here names a pupil. Writes are audited.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from groupsessions import selectors, services
from groupsessions.models import CohortGroup, GroupSession
from groupsessions.serializers import (
    CohortGroupCreateSerializer,
    CohortGroupFilterSerializer,
    CohortGroupSerializer,
    CoverageFilterSerializer,
    CoverageSerializer,
    FeedbackSummarySerializer,
    GroupSessionSerializer,
    PlannedSessionSerializer,
    SessionFilterSerializer,
    SessionPlanSerializer,
    SessionRecordSerializer,
)
from groupsessions.services import StaffPick
from welfare import audit, policy
from welfare.api import BAD_FILTER, IsMunicipalityStaff
from welfare.models import AuditAction, School, SchoolYear, TeachingGroup
from welfare.policy import Action

NOT_FOUND = OpenApiResponse(description="No such object among those the user may see.")
REJECTED = OpenApiResponse(description="Not saved: the field errors ({field: [messages]}).")
FORBIDDEN = OpenApiResponse(description="No role here, or the user may not do this at that school.")


def _validated(serializer_class, data):
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload


@extend_schema_view(
    list=extend_schema(parameters=[CohortGroupFilterSerializer],
                       responses={200: CohortGroupSerializer(many=True), 400: BAD_FILTER}),
    retrieve=extend_schema(responses={200: CohortGroupSerializer, 404: NOT_FOUND}),
)
class CohortGroupViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Groups to meet: every 7th-grade group of basic-education schools and every first-year group of
    upper-secondary and vocational schools in the register, plus groups a school has added by hand.
    Listed for the schools whose coverage the user may see (welfare group, principal; municipality-wide
    for the coordinator and the administrator)."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = CohortGroupSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CohortGroup.objects.none()
        queryset = CohortGroup.objects.order_by("school_id", "name", "id")
        ids = selectors.coverage_school_ids(self.request.user)
        return queryset if ids is None else queryset.filter(school_id__in=ids)

    def list(self, request, *args, **kwargs):
        filters = _validated(CohortGroupFilterSerializer, request.query_params)
        year = _school_year(filters.validated_data.get("school_year"))
        if year is not None:
            services.sync_cohort(year)
        self.queryset_filters = filters.filters()
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).filter(**getattr(self, "queryset_filters", {}))

    @extend_schema(request=CohortGroupCreateSerializer,
                   responses={201: CohortGroupSerializer, 400: REJECTED, 403: FORBIDDEN})
    def create(self, request, *args, **kwargs):
        """Add a group to meet by hand (RECORD_GROUP_SESSION at the school)."""
        data = _validated(CohortGroupCreateSerializer, request.data).validated_data
        school = School.objects.filter(pk=data["school"]).first()
        if school is None or not policy.can(request.user, Action.RECORD_GROUP_SESSION, school):
            raise exceptions.PermissionDenied
        school_year = SchoolYear.objects.filter(pk=data["school_year"]).first()
        if school_year is None:
            raise serializers.ValidationError({"school_year": ["No such school year."]})
        group = None
        if data.get("teaching_group"):
            group = TeachingGroup.objects.filter(pk=data["teaching_group"]).first()
            if group is None:
                raise serializers.ValidationError({"teaching_group": ["No such group."]})
        cohort_group = services.add_cohort_group(user=request.user, school=school, school_year=school_year,
                                                 teaching_group=group, name=data["name"], reason=data["reason"])
        audit.record(request, AuditAction.CREATE, obj=cohort_group, detail={"api": "group_session_cohort"})
        return Response(CohortGroupSerializer(cohort_group).data, status=status.HTTP_201_CREATED)


def _school_year(year_id: int | None) -> SchoolYear | None:
    if year_id is not None:
        return SchoolYear.objects.filter(pk=year_id).first()
    return selectors.school_year_for(timezone.localdate())


@extend_schema_view(
    list=extend_schema(parameters=[CoverageFilterSerializer],
                       responses={200: CoverageSerializer(many=True), 400: BAD_FILTER}),
)
class CoverageViewSet(viewsets.GenericViewSet):
    """Coverage per school for a school year: groups to meet, met, met by the deadline, planned and
    overdue, with the counts of pupils met and feedback responses suppressed under five. Schools whose
    coverage the user may see; an empty list for others."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = CoverageSerializer
    pagination_class = None

    def list(self, request, *args, **kwargs):
        filters = _validated(CoverageFilterSerializer, request.query_params).validated_data
        year = _school_year(filters.get("school_year"))
        if year is None:
            return Response([])
        services.sync_cohort(year)
        coverage = selectors.municipal_coverage(year, timezone.localdate(), ("pupils", "responses"),
                                                selectors.coverage_school_ids(request.user))
        data = [{"school": row.school.pk, "school_name": row.school.name, "school_year": year.pk,
                 "deadline": row.deadline, "to_meet": row.to_meet, "met": row.met,
                 "met_by_deadline": row.met_by_deadline, "planned": row.planned, "overdue": len(row.overdue),
                 "overdue_groups": [r.group.name for r in row.overdue],
                 "pupils_met": cells[0], "feedback_responses": cells[1]}
                for row, cells in coverage.table_rows()]
        return Response(CoverageSerializer(data, many=True).data)


@extend_schema_view(
    list=extend_schema(parameters=[SessionFilterSerializer],
                       responses={200: GroupSessionSerializer(many=True), 400: BAD_FILTER}),
    retrieve=extend_schema(responses={200: GroupSessionSerializer, 404: NOT_FOUND}),
)
class GroupSessionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Group sessions of the schools where the user plans and records them (RECORD_GROUP_SESSION:
    principal, guidance counsellor, welfare staff of the school)."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = GroupSessionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GroupSession.objects.none()
        queryset = (GroupSession.objects.select_related("cohort_group").prefetch_related("staff")
                    .order_by("starts_at", "id"))
        return policy.filter_queryset(self.request.user, Action.RECORD_GROUP_SESSION, queryset,
                                      school="cohort_group__school")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        return queryset.filter(**_validated(SessionFilterSerializer, self.request.query_params).filters())

    @extend_schema(request=SessionPlanSerializer,
                   responses={201: PlannedSessionSerializer, 400: REJECTED, 403: FORBIDDEN})
    def create(self, request, *args, **kwargs):
        """Plan a session for a group to meet. A staff member booked elsewhere at an overlapping time
        is a warning in the response, not a refusal."""
        data = _validated(SessionPlanSerializer, request.data).validated_data
        cohort_group = CohortGroup.objects.select_related("school", "school_year").filter(
            pk=data["cohort_group"]).first()
        if cohort_group is None or not policy.can(request.user, Action.RECORD_GROUP_SESSION, cohort_group):
            raise exceptions.PermissionDenied
        picks = [StaffPick(row["user_id"], row["role"]) for row in data["staff"]]
        session = services.plan_session(user=request.user, cohort_group=cohort_group,
                                        starts_at=data["starts_at"], ends_at=data["ends_at"],
                                        place=data["place"], staff=picks)
        conflicts = selectors.double_bookings([p.user_id for p in picks], session.starts_at, session.ends_at,
                                              exclude=session.pk)
        audit.record(request, AuditAction.CREATE, obj=session, detail={"api": "group_session_plan"})
        body = PlannedSessionSerializer(session, context={"request": request, "conflicts": conflicts}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=SessionRecordSerializer,
                   responses={200: GroupSessionSerializer, 400: REJECTED, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None, **kwargs):
        """Record the session as held (counts, topics) or not held (reason)."""
        session = self.get_object()
        data = _validated(SessionRecordSerializer, request.data).validated_data
        services.record_session(session, user=request.user, **data)
        audit.record(request, AuditAction.UPDATE, obj=session, detail={"api": "group_session_record"})
        return Response(GroupSessionSerializer(session, context={"request": request}).data)

    @extend_schema(responses={200: FeedbackSummarySerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"])
    def feedback(self, request, pk=None, **kwargs):
        """The pupils' feedback on the session: per-question results from five responses up; the open
        answers for the school's welfare staff only (VIEW_OPEN_FEEDBACK)."""
        session = self.get_object()
        responses = session.feedback.all()
        summary = selectors.feedback_summary(responses)
        answers = None
        if policy.can(request.user, Action.VIEW_OPEN_FEEDBACK, session):
            answers = [answer.open_answer for answer in selectors.open_answers(responses)]
            if answers:
                audit.record(request, AuditAction.READ, obj=session,
                             detail={"api": "group_session_open_answers", "answers": len(answers)})
        return Response(FeedbackSummarySerializer({
            "responses": summary.responses_label, "shown": summary.shown, "open_answers": answers,
            "statements": summary.statements}).data)


def register(router) -> None:
    router.register("group-sessions/cohort-groups", CohortGroupViewSet, basename="group-session-cohort")
    router.register("group-sessions/coverage", CoverageViewSet, basename="group-session-coverage")
    router.register("group-sessions/sessions", GroupSessionViewSet, basename="group-session")
