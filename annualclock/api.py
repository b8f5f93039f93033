"""REST API of the annual clock, registered under /api/v1/annual-clock/ by ``register(router)``.

* rings/: the municipality's rings (categories), read-only.
* templates/: the coordinator's templates (read: template managers and clock editors; write:
  Action.MANAGE_CLOCK_TEMPLATES); templates/{id}/adopt/ makes a school's clock as a copy.
* clocks/: the clocks the user may view (Action.VIEW_ANNUAL_CLOCK); POST (editors) makes an empty
  clock or a copy of an earlier clock of the school.
* activities/: clock activities the user may view; writes by the clock's editors
  (Action.EDIT_ANNUAL_CLOCK) or, for template activities, the coordinator.
* evaluations/: evaluations the user may view; POST marks an activity done with its evaluation.
* feeds/: the user's own calendar feeds; POST makes one (the answer carries its address once),
  feeds/{id}/revoke/ and feeds/{id}/regenerate/.

Every endpoint first requires a role in this municipality (IsMunicipalityStaff). Objects outside
the user's view are 404; visible objects the user may not change are 403. Communal data: reads
are not audited, changes are.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from annualclock import selectors, services
from annualclock.models import Activity, ClockTemplate, Evaluation, Ring, Status
from annualclock.serializers import (
    AdoptSerializer,
    ClockActivitySerializer,
    ClockEvaluationSerializer,
    ClockFeedSerializer,
    ClockRingSerializer,
    ClockSerializer,
    ClockTemplateSerializer,
)
from welfare import audit, policy
from welfare.api import IsMunicipalityStaff
from welfare.models import AuditAction, School, SchoolYear
from welfare.policy import Action

NOT_FOUND = OpenApiResponse(description="No such object, or not one the user may see.")
FORBIDDEN = OpenApiResponse(description="The user may see it but not change it (or has no role here).")
INVALID = OpenApiResponse(description="Field errors: {field: [messages]} or non_field_errors.")
WRITE_RESPONSES = {400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND}


class RingViewSet(viewsets.ReadOnlyModelViewSet):
    """The rings (categories) of the municipality's clocks, in order."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockRingSerializer
    queryset = Ring.objects.order_by("position", "id")


@extend_schema_view(
    create=extend_schema(responses={201: ClockTemplateSerializer, 400: INVALID, 403: FORBIDDEN}),
    partial_update=extend_schema(responses={200: ClockTemplateSerializer, **WRITE_RESPONSES}),
)
class ClockTemplateViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Template clocks with their activities. Visible to the coordinator (who changes them) and to
    the welfare group members who may adopt them; others get an empty list."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockTemplateSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # "evaluation": the activities' serializer asks each whether it has one (template activities never do).
        queryset = ClockTemplate.objects.prefetch_related("activities__ring", "activities__evaluation").order_by(
            "name", "id")
        user = self.request.user
        if policy.can(user, Action.MANAGE_CLOCK_TEMPLATES) or policy.can(user, Action.EDIT_ANNUAL_CLOCK):
            return queryset
        return queryset.none()

    def _require_manager(self):
        if not policy.can(self.request.user, Action.MANAGE_CLOCK_TEMPLATES):
            raise exceptions.PermissionDenied

    def perform_create(self, serializer):
        self._require_manager()
        data = serializer.validated_data
        template = serializer.instance = services.create_template(
            name=data["name"], school_type=data.get("school_type", ""), description=data.get("description", ""),
            user=self.request.user)
        audit.record(self.request, AuditAction.CREATE, obj=template, detail={"api": True})

    def perform_update(self, serializer):
        self._require_manager()
        template = serializer.save()
        audit.record(self.request, AuditAction.UPDATE, obj=template, detail={"api": True})

    @extend_schema(request=AdoptSerializer, responses={201: ClockSerializer, **WRITE_RESPONSES})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        """Make the school's clock for the school year as a copy of this template (Action.EDIT_ANNUAL_CLOCK)."""
        template = self.get_object()
        payload = AdoptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        school = School.objects.filter(pk=payload.validated_data["school"]).first()
        year = SchoolYear.objects.filter(pk=payload.validated_data["school_year"]).first()
        if school is None or year is None:
            raise serializers.ValidationError({"non_field_errors": [_msg_no_school()]})
        if not policy.can(request.user, Action.EDIT_ANNUAL_CLOCK, school):
            raise exceptions.PermissionDenied
        try:
            clock = services.adopt_template(template, school=school, school_year=year, user=request.user)
        except (ValueError, IntegrityError):
            raise serializers.ValidationError({"non_field_errors": [_msg_exists()]}) from None
        audit.record(request, AuditAction.CREATE, obj=clock, detail={"api": True, "template": template.pk})
        return Response(ClockSerializer(clock).data, status=status.HTTP_201_CREATED)


def _msg_no_school() -> str:
    return _("No such school or school year.")


def _msg_exists() -> str:
    return _("The school already has a clock for that school year.")


@extend_schema_view(create=extend_schema(responses={201: ClockSerializer, **WRITE_RESPONSES}),
                    partial_update=extend_schema(responses={200: ClockSerializer, **WRITE_RESPONSES}))
class ClockViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Clocks the user may view: school staff their school's, the coordinator and administrator all."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.visible_clocks(self.request.user).order_by("-school_year__start_date", "school__name", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        school, year, source = data["school"], data["school_year"], data.get("copy_from")
        if not policy.can(request.user, Action.EDIT_ANNUAL_CLOCK, school):
            raise exceptions.PermissionDenied
        if source is not None and source.school_id != school.pk:
            raise serializers.ValidationError({"copy_from": [_("Copy an earlier clock of the same school.")]})
        try:
            if source is not None:
                clock = services.copy_clock(source, school_year=year, user=request.user)
            else:
                clock = services.empty_clock(school=school, school_year=year, user=request.user)
        except (ValueError, IntegrityError):
            raise serializers.ValidationError({"non_field_errors": [_msg_exists()]}) from None
        if "reminder_days" in data:
            services.set_clock_reminder_days(clock, data["reminder_days"])
        audit.record(request, AuditAction.CREATE, obj=clock, detail={"api": True})
        return Response(self.get_serializer(clock).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Only ``reminder_days`` changes (null: the municipality's setting); a PATCH without it
        leaves it as it is. School, year and origin are fixed when the clock is made."""
        clock = self.get_object()
        if not policy.can(request.user, Action.EDIT_ANNUAL_CLOCK, clock):
            raise exceptions.PermissionDenied
        serializer = self.get_serializer(clock, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "reminder_days" in serializer.validated_data:
            services.set_clock_reminder_days(clock, serializer.validated_data["reminder_days"])
        audit.record(request, AuditAction.UPDATE, obj=clock, detail={"api": True})
        return Response(self.get_serializer(clock).data)


@extend_schema_view(
    list=extend_schema(parameters=[
        OpenApiParameter("clock", int, description="Only this clock's activities."),
        OpenApiParameter("mine", bool, description="Only activities the user owns (\"my tasks\")."),
    ]),
    create=extend_schema(responses={201: ClockActivitySerializer, **WRITE_RESPONSES}),
    partial_update=extend_schema(responses={200: ClockActivitySerializer, **WRITE_RESPONSES}),
    destroy=extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND}),
)
class ActivityViewSet(viewsets.ModelViewSet):
    """Activities of the clocks the user may view (template activities are in templates/)."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockActivitySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        queryset = selectors.visible_activities(user).select_related("evaluation").order_by("clock_id", "id")
        if self.action == "list":
            clock = self.request.query_params.get("clock", "")
            if clock:
                if not clock.isdigit() or len(clock) > 18:
                    raise serializers.ValidationError({"clock": ["A clock id (a whole number)."]})
                queryset = queryset.filter(clock_id=int(clock))
            if self.request.query_params.get("mine", "").lower() in ("true", "1"):
                queryset = queryset.filter(selectors.owned_condition(user))
            return queryset
        if policy.can(user, Action.MANAGE_CLOCK_TEMPLATES):  # the coordinator changes template activities
            return (queryset | Activity.objects.filter(template__isnull=False)).select_related("ring")
        return queryset

    def _require_edit(self, container):
        if container is None or not selectors.may_edit(self.request.user, container):
            raise exceptions.PermissionDenied

    def _save(self, activity: Activity) -> Activity:
        return services.save_activity(activity, user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        self._require_edit(data.get("clock") or data.get("template"))
        activity = self._save(Activity(**data))  # the model's clean() asks for a title in some language
        serializer.instance = activity
        audit.record(self.request, AuditAction.CREATE, obj=activity, detail={"api": True})

    def perform_update(self, serializer):
        activity = serializer.instance
        self._require_edit(activity.clock or activity.template)
        for name, value in serializer.validated_data.items():
            setattr(activity, name, value)
        self._save(activity)
        audit.record(self.request, AuditAction.UPDATE, obj=activity, detail={"api": True})

    def perform_destroy(self, instance):
        self._require_edit(instance.clock or instance.template)
        audit.record(self.request, AuditAction.DELETE, obj=instance, detail={"api": True})
        services.delete_activity(instance, user=self.request.user)


@extend_schema_view(
    create=extend_schema(responses={201: ClockEvaluationSerializer, **WRITE_RESPONSES}),
    partial_update=extend_schema(responses={200: ClockEvaluationSerializer, **WRITE_RESPONSES}),
)
class EvaluationViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluations of done activities on the clocks the user may view. POST marks the activity done
    with the evaluation (Action.EDIT_ANNUAL_CLOCK); a second POST for the same activity updates it."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockEvaluationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = Evaluation.objects.select_related("activity__clock").order_by("-created_at", "-id")
        return policy.filter_queryset(self.request.user, Action.VIEW_ANNUAL_CLOCK, queryset,
                                      school="activity__clock__school")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = data["activity"]
        if not selectors.may_view(request.user, activity):
            raise serializers.ValidationError({"activity": [_("No such activity.")]})
        if not selectors.may_edit(request.user, activity):
            raise exceptions.PermissionDenied
        if activity.status == Status.CANCELLED:
            raise serializers.ValidationError({"activity": [_("A cancelled activity is not evaluated.")]})
        evaluation = services.complete_activity(activity, user=request.user, what_happened=data["what_happened"],
                                                reach=data.get("reach"), next_year=data.get("next_year", ""))
        audit.record(request, AuditAction.UPDATE, obj=activity, detail={"api": True, "evaluation": evaluation.pk})
        return Response(self.get_serializer(evaluation).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        evaluation = self.get_object()
        if not selectors.may_edit(request.user, evaluation.activity):
            raise exceptions.PermissionDenied
        serializer = self.get_serializer(evaluation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "activity" in data and data["activity"].pk != evaluation.activity_id:
            raise serializers.ValidationError({"activity": [_("An evaluation cannot move to another activity.")]})
        evaluation = services.complete_activity(
            evaluation.activity, user=request.user, what_happened=data.get("what_happened", evaluation.what_happened),
            reach=data.get("reach", evaluation.reach), next_year=data.get("next_year", evaluation.next_year))
        audit.record(request, AuditAction.UPDATE, obj=evaluation, detail={"api": True})
        return Response(self.get_serializer(evaluation).data)


@extend_schema_view(
    create=extend_schema(responses={201: ClockFeedSerializer, 400: INVALID}),
)
class FeedViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The user's own calendar feeds. The address (with its secret) is in the answer that makes the
    feed only; the feed is public at that address until revoked (then 404)."""

    permission_classes = [IsMunicipalityStaff]
    serializer_class = ClockFeedSerializer

    def get_queryset(self):
        return selectors.feeds_of(self.request.user).order_by("-created_at", "-id")

    def _answer(self, feed, token, code):
        url = self.request.build_absolute_uri(reverse("annualclock:feed_ics", args=[token]))
        return Response(ClockFeedSerializer(feed, context={"urls": {feed.pk: url}}).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        clock = data.get("clock")
        if not policy.can(request.user, Action.VIEW_ANNUAL_CLOCK, clock):
            raise serializers.ValidationError({"clock": [_("No such clock.")]})
        feed, token = services.create_feed(user=request.user, kind=data["kind"], clock=clock)
        audit.record(request, AuditAction.CREATE, obj=feed, detail={"api": True})
        return self._answer(feed, token, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ClockFeedSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the feed: its address answers 404 from now on."""
        feed = services.revoke_feed(self.get_object(), user=request.user)
        audit.record(request, AuditAction.UPDATE, obj=feed, detail={"api": True, "revoked": True})
        return Response(ClockFeedSerializer(feed).data)

    @extend_schema(request=None, responses={201: ClockFeedSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        """Revoke the feed and make a new one of the same kind (a new address; the events keep their UIDs)."""
        old = self.get_object()
        if old.clock is not None and not policy.can(request.user, Action.VIEW_ANNUAL_CLOCK, old.clock):
            raise exceptions.NotFound
        feed, token = services.regenerate_feed(old, user=request.user)
        audit.record(request, AuditAction.CREATE, obj=feed, detail={"api": True, "replaces": old.pk})
        return self._answer(feed, token, status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("annual-clock/rings", RingViewSet, basename="annualclock-ring")
    router.register("annual-clock/templates", ClockTemplateViewSet, basename="annualclock-template")
    router.register("annual-clock/clocks", ClockViewSet, basename="annualclock-clock")
    router.register("annual-clock/activities", ActivityViewSet, basename="annualclock-activity")
    router.register("annual-clock/evaluations", EvaluationViewSet, basename="annualclock-evaluation")
    router.register("annual-clock/feeds", FeedViewSet, basename="annualclock-feed")

