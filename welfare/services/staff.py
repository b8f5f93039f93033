"""Staff management: invite people, grant and revoke roles, deactivate someone in this municipality.

Write verbs only; the caller has already passed ``welfare.policy`` for ``Action.MANAGE_STAFF``
(municipal administrator, paakayttaja) and writes the audit entry. Users are shared by all
municipalities (public schema, domain.md A2): nothing here changes another municipality's grants,
and an existing user is never duplicated or renamed by an invitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from allauth.account.utils import filter_users_by_email, user_pk_to_url_str
from allauth.core.context import request_context
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from welfare.locks import advisory_lock
from welfare.models import MUNICIPAL_ROLES, Role, School, StaffRole, TeachingGroup

INVITATION_TEMPLATE = "welfare/staff/email/invitation"


class StaffChangeRefused(Exception):
    """A change the rules do not allow; ``message`` is shown to the administrator as is."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Invitation:
    user: object  # accounts.User
    grant: StaffRole
    created_user: bool  # False: the email already had a user (e.g. a county worker elsewhere)


def _lock_user(user_id: int) -> None:
    """Serialise concurrent changes to one person's grants (duplicate check, then insert)."""
    advisory_lock("staff-grants", user_id)


def _grant(user, role: str, school: School | None, groups: Iterable[TeachingGroup], by) -> StaffRole:
    if role in MUNICIPAL_ROLES:
        school, groups = None, []
    elif school is None:
        raise StaffChangeRefused(_("Choose the school for this role."))
    if role != Role.CLASS_TEACHER:
        groups = []
    groups = list(groups)
    if any(group.school_id != school.pk for group in groups):
        raise StaffChangeRefused(_("The groups must belong to the chosen school."))
    _lock_user(user.pk)
    if StaffRole.objects.active().filter(user_id=user.pk, role=role, school=school).exists():
        raise StaffChangeRefused(_("%(person)s already holds this role here. Revoke it first to change it.")
                                 % {"person": user.get_full_name() or user.email})
    grant = StaffRole.objects.create(user_id=user.pk, role=role, school=school,
                                     granted_by_id=getattr(by, "pk", None))
    if groups:
        grant.groups.set(groups)
    return grant


def grant_role(*, user, role: str, school: School | None = None, groups: Iterable[TeachingGroup] = (),
               by=None) -> StaffRole:
    """Grant ``role`` to ``user`` in this municipality (at ``school`` unless the role is municipal).

    Caller: a view that passed ``Action.MANAGE_STAFF``. Refuses a second active grant of the same
    role at the same school (StaffChangeRefused).
    """
    with transaction.atomic():
        return _grant(user, role, school, groups, by)


def _admins_left_after(revoking: Iterable[StaffRole]) -> int:
    """Active municipal-admin grants that remain once ``revoking`` is revoked. Locks them, so two
    administrators revoking each other at the same moment cannot both succeed."""
    admins = list(StaffRole.objects.active().filter(role=Role.MUNICIPAL_ADMIN).select_for_update()
                  .values_list("pk", flat=True))
    revoked_ids = {grant.pk for grant in revoking}
    return sum(1 for pk in admins if pk not in revoked_ids)


def _revoke(grants: list[StaffRole]) -> list[StaffRole]:
    if any(grant.role == Role.MUNICIPAL_ADMIN for grant in grants) and _admins_left_after(grants) == 0:
        raise StaffChangeRefused(_("This is the municipality's last municipal administrator role. Grant the role "
                                   "to someone else first, so the municipality is not left without an "
                                   "administrator."))
    now = timezone.now()
    ids = [grant.pk for grant in grants]
    StaffRole.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=now)
    for grant in grants:
        grant.revoked_at = now
    return grants


def revoke_role(*, grant: StaffRole, by=None) -> StaffRole:
    """Revoke one grant in this municipality: sets ``revoked_at``, the row stays for the history.

    Caller: a view that passed ``Action.MANAGE_STAFF``. Refuses to revoke the municipality's last
    municipal-administrator grant, and an already revoked grant (StaffChangeRefused).
    """
    with transaction.atomic():
        _lock_user(grant.user_id)
        current = StaffRole.objects.select_for_update().get(pk=grant.pk)
        if current.revoked_at is not None:
            raise StaffChangeRefused(_("This role has already been revoked."))
        _revoke([current])
        grant.revoked_at = current.revoked_at
        return grant


def deactivate_staff(*, user, by=None) -> list[StaffRole]:
    """Revoke every active grant ``user`` holds in this municipality (other municipalities keep
    theirs: a county worker may still work there). Returns the grants revoked.

    Caller: a view that passed ``Action.MANAGE_STAFF``. Refused when it would remove the
    municipality's last municipal administrator (StaffChangeRefused). The user's open sessions
    need no action: the policy refuses a user with no role here on the next request.
    """
    with transaction.atomic():
        _lock_user(user.pk)
        grants = list(StaffRole.objects.active().filter(user_id=user.pk).select_for_update().order_by("pk"))
        if not grants:
            raise StaffChangeRefused(_("%(person)s holds no role here.")
                                     % {"person": user.get_full_name() or user.email})
        return _revoke(grants)


def invite_staff(*, email: str, first_name: str, last_name: str, language: str, role: str,
                 school: School | None = None, groups: Iterable[TeachingGroup] = (), by=None,
                 request=None) -> Invitation:
    """Give a person their first role here; create their user and invite them when they have none.

    If the address already belongs to a user (e.g. a county counsellor who works in another
    municipality), the role is granted to that user: no new user, their name and other
    municipalities untouched, no email. Otherwise the user is created with an unusable password
    and an unverified primary address, and after commit an invitation in ``language`` carries
    allauth's set-password link (``request`` builds the link's host). Setting the password verifies
    the address (``_verify_address_on_password_reset``).

    Caller: a view that passed ``Action.MANAGE_STAFF``.
    """
    with transaction.atomic():
        email = get_adapter().clean_email(email.strip()).lower()
        existing = filter_users_by_email(email)
        if existing:
            user, created = existing[0], False
        else:
            user = get_user_model().objects.create_user(
                email=email, password=None, first_name=first_name.strip(), last_name=last_name.strip(),
                preferred_language=language,
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
            created = True
        grant = _grant(user, role, school, groups, by)
        if created:
            transaction.on_commit(partial(send_invitation, user, request=request, invited_by=by))
        return Invitation(user=user, grant=grant, created_user=created)


def invitation_url(request, user) -> str:
    """allauth's password-reset-by-key link for ``user``, on the host of ``request``."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    return get_adapter(request).get_reset_password_from_key_url(key)


def send_invitation(user, *, request=None, invited_by=None) -> None:
    """Email the invitation with the set-password link, in the invitee's language.

    Sent through allauth's adapter (its sender address and subject prefix). Called after commit.
    """
    tenant = getattr(request, "tenant", None)
    language = getattr(user, "preferred_language", None) or settings.LANGUAGE_CODE
    # allauth's adapter reads the request from its context; on_commit may run outside it.
    with request_context(request), translation.override(language):
        adapter = get_adapter(request)
        context = {
            "request": request,
            "email": user.email,
            "user": user,
            "invited_by": invited_by,
            "municipality": tenant,
            "municipality_name": tenant.name if tenant is not None else "",
            "password_reset_url": invitation_url(request, user),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        message = adapter.render_mail(INVITATION_TEMPLATE, user.email, context,
                                      headers={"Content-Language": language})
    message.send()


@receiver(password_reset, dispatch_uid="yhdessa_verify_address_on_password_reset")
def _verify_address_on_password_reset(sender, request, user, **kwargs):
    """Setting a password through the emailed key proves the mailbox is the user's: mark the
    address verified (allauth's key flow does not), so the invitee can sign in at once.

    Only when the user has a single address: the key then went to that one.
    """
    addresses = list(EmailAddress.objects.filter(user=user))
    if len(addresses) == 1 and not addresses[0].verified and addresses[0].email.lower() == user.email.lower():
        addresses[0].verified = True
        addresses[0].save(update_fields=["verified"])
