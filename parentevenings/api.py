"""REST API of parent evenings, registered under /api/v1/parent-evenings/ by ``register(router)``.

Staff side (read-only; MANAGE_PARENT_EVENINGS — the coordinator everywhere, principals for the
evenings of their schools): evenings, languages, interpreter bookings, invitations, registrations
(codes, counts and needs: never contact details) and feedback summaries per language
(small-number suppression).

Public side: ``public/registrations/`` lets a family register without an account. Throttled per
address (``PublicRegistrationThrottle``); a signed-in user must hold a role here, so a token of
another municipality's user is refused like everywhere else.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from parentevenings import links, selectors
from parentevenings.models import EveningLanguage, EveningStatus, InterpreterBooking, ParentEvening
from parentevenings.serializers import (
    EveningFeedbackSummarySerializer,
    EveningFilterSerializer,
    EveningInvitationSerializer,
    EveningLanguageSerializer,
    EveningRegistrationSerializer,
    InterpreterBookingSerializer,
    ParentEveningSerializer,
    PublicRegistrationResultSerializer,
    PublicRegistrationSerializer,
)
from parentevenings.services import registrations as services
from welfare import audit, policy
from welfare.api import BAD_FILTER, IsMunicipalityStaff
from welfare.models import AuditAction
from welfare.policy import Action


class MayManageParentEvenings(IsMunicipalityStaff):
    """A role here that may manage parent evenings somewhere (403 otherwise, audited)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if policy.can(request.user, Action.MANAGE_PARENT_EVENINGS):
            return True
        audit.record(request, AuditAction.DENIED, object_type="parentevenings", detail={"method": request.method})
        return False


class EveningScopedViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows of the evenings the user manages, optionally narrowed to one evening (?evening=)."""

    permission_classes = [MayManageParentEvenings]
    evening_lookup = "evening"

    def evenings(self):
        return selectors.manageable_evenings(self.request.user)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        params = EveningFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        if "evening" in params.validated_data:
            queryset = queryset.filter(**{self.evening_lookup: params.validated_data["evening"]})
        return queryset


LIST_WITH_EVENING = extend_schema(parameters=[EveningFilterSerializer], responses={400: BAD_FILTER})


class ParentEveningViewSet(EveningScopedViewSet):
    """Evenings the user organises, with their languages and presenting agencies."""

    serializer_class = ParentEveningSerializer
    evening_lookup = "pk"

    def get_queryset(self):
        return (self.evenings().prefetch_related(
            "schools", "evening_agencies__agency",
            Prefetch("languages", queryset=EveningLanguage.objects.prefetch_related("bookings")))
            .order_by("-date", "id"))

    @extend_schema(responses={200: EveningFeedbackSummarySerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="feedback-summary")
    def feedback_summary(self, request, pk=None, format=None):  # noqa: A002 — DRF's format suffix
        """Feedback per language: "<5" answers show no mean and no open answers."""
        evening = self.get_object()
        return Response(EveningFeedbackSummarySerializer(selectors.feedback_summary([evening.pk]), many=True).data)


@extend_schema_view(list=LIST_WITH_EVENING)
class EveningLanguageViewSet(EveningScopedViewSet):
    """Languages of the evenings, with the interpreter status of each."""

    serializer_class = EveningLanguageSerializer

    def get_queryset(self):
        return (EveningLanguage.objects.filter(evening__in=self.evenings()).prefetch_related("bookings")
                .order_by("evening_id", "position", "code", "id"))


@extend_schema_view(list=LIST_WITH_EVENING)
class InvitationViewSet(EveningScopedViewSet):
    """Invitation texts per language: as written (with placeholders) and as guardians see them."""

    serializer_class = EveningInvitationSerializer

    def get_queryset(self):
        return (EveningLanguage.objects.filter(evening__in=self.evenings()).select_related("evening")
                .order_by("evening_id", "position", "code", "id"))


@extend_schema_view(list=LIST_WITH_EVENING)
class InterpreterBookingViewSet(EveningScopedViewSet):
    """Interpreter and cultural mediator bookings per language."""

    serializer_class = InterpreterBookingSerializer
    evening_lookup = "language__evening"

    def get_queryset(self):
        return (InterpreterBooking.objects.filter(language__evening__in=self.evenings())
                .select_related("language").order_by("language__evening_id", "language__code", "id"))


@extend_schema_view(list=LIST_WITH_EVENING)
class RegistrationViewSet(EveningScopedViewSet):
    """Registrations (staff side): codes, counts and needs, never contact details."""

    serializer_class = EveningRegistrationSerializer

    def get_queryset(self):
        return selectors.staff_registrations(self.evenings()).order_by("evening_id", "created_at", "id")


class PublicRegistrationThrottle(AnonRateThrottle):
    """Anonymous registrations per address; the rate is PARENT_EVENINGS_API_REGISTRATION_RATE.

    The address is welfare.audit.client_ip's, as on the public pages: DRF's own ``get_ident``
    takes the whole X-Forwarded-For header when NUM_PROXIES is unset, so a client could dodge
    the limit by sending a new header with each request."""

    scope = "parent_evening_registration"

    def get_rate(self):
        return getattr(settings, "PARENT_EVENINGS_API_REGISTRATION_RATE", "30/hour")

    def get_ident(self, request):
        return audit.client_ip(request) or "unknown"


class AnonymousOrMunicipalityStaff(permissions.BasePermission):
    """Guardians need no account; a signed-in user must still hold a role in this municipality."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return True
        return IsMunicipalityStaff().has_permission(request, view)


class PublicRegistrationViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A family registers for a published evening, without an account. Confirmed while places
    last, otherwise on the waiting list; the answer gives the registration code and the family's
    own page (status and cancellation)."""

    permission_classes = [AnonymousOrMunicipalityStaff]
    throttle_classes = [PublicRegistrationThrottle]
    serializer_class = PublicRegistrationSerializer

    @extend_schema(responses={
        201: PublicRegistrationResultSerializer,
        400: OpenApiResponse(description="Bad input, unknown language, or the evening and its waiting list are "
                                         "full: the body names the field and says why."),
        404: OpenApiResponse(description="No published evening with this token."),
        429: OpenApiResponse(description="Too many registrations from this address; try again later."),
    })
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evening = ParentEvening.objects.filter(public_token=serializer.validated_data["evening"],
                                               status=EveningStatus.PUBLISHED).first()
        if evening is None:
            raise exceptions.NotFound("No published evening with this token.")
        registration = services.register(evening.pk, serializer.to_input(), base_url=links.base_url(request))
        result = {"code": registration.code, "status": registration.status,
                  "registration_url": links.base_url(request) + links.cancel_path(registration)}
        return Response(PublicRegistrationResultSerializer(result).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    prefix = "parent-evenings"
    router.register(f"{prefix}/evenings", ParentEveningViewSet, basename="parent-evening")
    router.register(f"{prefix}/languages", EveningLanguageViewSet, basename="parent-evening-language")
    router.register(f"{prefix}/invitations", InvitationViewSet, basename="parent-evening-invitation")
    router.register(f"{prefix}/interpreters", InterpreterBookingViewSet, basename="parent-evening-interpreter")
    router.register(f"{prefix}/registrations", RegistrationViewSet, basename="parent-evening-registration")
    router.register(f"{prefix}/public/registrations", PublicRegistrationViewSet,
                    basename="parent-evening-public-registration")
