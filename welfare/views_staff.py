"""Staff management pages: municipal administrators (paakayttaja) invite people, grant and revoke
roles and deactivate someone in this municipality. Every change is audit-logged."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from welfare import audit, selectors_staff
from welfare.forms_staff import LANGUAGE_CHOICES, InviteForm, RoleGrantForm, StaffFilterForm
from welfare.models import AuditAction, StaffRole
from welfare.policy import Action, can, forget_roles, permission_required
from welfare.services import staff as staff_services
from welfare.services.staff import StaffChangeRefused


def _audit_change(request, grant: StaffRole, change: str, **extra) -> None:
    detail = {"change": change, "role": grant.role, "school_id": grant.school_id, "target_user_id": grant.user_id}
    detail.update(extra)
    audit.record(request, AuditAction.PERMISSION_CHANGE, object_type="welfare.staffrole", object_id=str(grant.pk),
                 detail=detail)


def _after_change(request, *users):
    """Grants changed in this request: later checks in it must not use the memoised ones."""
    for user in (request.user, *users):
        forget_roles(user)


def _back_to(request, member_user):
    """The person's page, or the front page when the administrator has just removed their own right."""
    if not can(request.user, Action.MANAGE_STAFF):
        return redirect("home")
    return redirect("staff:member", user_id=member_user.pk)


def _name(user) -> str:
    return user.get_full_name() or user.email


@permission_required(Action.MANAGE_STAFF)
def staff_list(request):
    """Everyone with an active role here; revoked grants under the history filter."""
    form = StaffFilterForm(request.GET or None)
    school = role = None
    history = False
    if form.is_bound and form.is_valid():
        school, role, history = form.cleaned_data["school"], form.cleaned_data["role"], form.cleaned_data["history"]
    context = {
        "form": form,
        "members": selectors_staff.staff_list(school=school, role=role),
        "history": history,
        "revoked": selectors_staff.revoked_grants(school=school, role=role) if history else [],
        "filtered": bool(school or role),
    }
    return render(request, "welfare/staff/list.html", context)


def _render_member(request, member, grant_form):
    context = {"member": member, "grant_form": grant_form, "is_self": member.user.pk == request.user.pk}
    return render(request, "welfare/staff/member.html", context)


@permission_required(Action.MANAGE_STAFF)
def staff_member(request, user_id: int):
    """One person: their roles here (revoke), the history, and a form to grant another role."""
    member = selectors_staff.staff_member(user_id)
    return _render_member(request, member, RoleGrantForm())


@permission_required(Action.MANAGE_STAFF)
@require_POST
def grant_role(request, user_id: int):
    member = selectors_staff.staff_member(user_id)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grant = staff_services.grant_role(user=member.user, role=data["role"], school=data["school"],
                                              groups=data["groups"], by=request.user)
        except StaffChangeRefused as refused:
            form.add_error(None, refused.message)
        else:
            _audit_change(request, grant, "grant", group_ids=[group.pk for group in data["groups"]])
            _after_change(request, member.user)
            messages.success(request, _("%(role)s granted to %(person)s.")
                             % {"role": grant.get_role_display(), "person": _name(member.user)})
            return redirect("staff:member", user_id=member.user.pk)
    return _render_member(request, member, form)


@permission_required(Action.MANAGE_STAFF)
@require_POST
def revoke_role(request, user_id: int, grant_id: int):
    grant = get_object_or_404(StaffRole, pk=grant_id, user_id=user_id)
    member = selectors_staff.staff_member(user_id)
    try:
        staff_services.revoke_role(grant=grant, by=request.user)
    except StaffChangeRefused as refused:
        messages.error(request, refused.message)
        return redirect("staff:member", user_id=user_id)
    _audit_change(request, grant, "revoke")
    _after_change(request, member.user)
    messages.success(request, _("%(role)s revoked from %(person)s.")
                     % {"role": grant.get_role_display(), "person": _name(member.user)})
    return _back_to(request, member.user)


@permission_required(Action.MANAGE_STAFF)
def deactivate(request, user_id: int):
    """GET asks for confirmation; POST revokes every role the person holds in this municipality."""
    member = selectors_staff.staff_member(user_id)
    if request.method == "POST":
        try:
            revoked = staff_services.deactivate_staff(user=member.user, by=request.user)
        except StaffChangeRefused as refused:
            messages.error(request, refused.message)
            return redirect("staff:member", user_id=user_id)
        for grant in revoked:
            _audit_change(request, grant, "deactivate")
        _after_change(request, member.user)
        messages.success(request, _("%(person)s no longer has any role in this municipality.")
                         % {"person": _name(member.user)})
        return _back_to(request, member.user)
    return render(request, "welfare/staff/deactivate.html",
                  {"member": member, "is_self": member.user.pk == request.user.pk})


@permission_required(Action.MANAGE_STAFF)
def invite(request):
    """Invite a person by email with their first role; an existing user just gets the role here."""
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = staff_services.invite_staff(
                    email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
                    language=data["language"], role=data["role"], school=data["school"], groups=data["groups"],
                    by=request.user, request=request,
                )
            except StaffChangeRefused as refused:
                form.add_error(None, refused.message)
            else:
                _audit_change(request, invitation.grant, "invite", new_user=invitation.created_user,
                              group_ids=[group.pk for group in data["groups"]])
                _after_change(request, invitation.user)
                person = _name(invitation.user)
                if invitation.created_user:
                    messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.user.email})
                else:
                    messages.success(request, _("%(person)s already has a Yhdessä account: the role was added to "
                                                "it and no invitation was sent.") % {"person": person})
                return redirect("staff:member", user_id=invitation.user.pk)
    else:
        language = (get_language() or "fi")[:2]
        form = InviteForm(initial={"language": language if language in dict(LANGUAGE_CHOICES) else "fi"})
    return render(request, "welfare/staff/invite.html", {"form": form})


@permission_required(Action.MANAGE_STAFF)
def groups_field(request):
    """The groups checkboxes for the school chosen (htmx swaps them in when the school changes)."""
    form = RoleGrantForm(initial={"school": request.GET.get("school") or None})
    return render(request, "welfare/staff/_groups_field.html", {"field": form["groups"]})
