"""Pupil pages: the list a member of staff may see, and one pupil's register record.

Need to know (domain.md A4): the list is narrowed by ``policy.visible_students``; the record
asks for a recent second factor (step-up) and answers 404 for any pupil the user may not see,
so that a pupil's existence is never revealed. Every pupil shown is written to the audit log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from welfare import audit, policy
from welfare.mfa import step_up_required
from welfare.models import AuditAction, Student
from welfare.policy import Action, municipality_staff_required
from welfare.selectors import search_students

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100


@never_cache
@municipality_staff_required
def pupil_list(request):
    """The pupils the user may see (own groups, own school, served schools), 50 a page.

    Roles without a need to know pupils' identities (coordinator, administrator, data
    protection officer) see a notice and no names. Every pupil on the page is audit-logged.
    """
    if not policy.can(request.user, Action.VIEW_PUPIL):
        return render(request, "welfare/pupils/list.html", {"names_hidden": True})
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    pupils = search_students(
        policy.visible_students(request.user).select_related("school", "group"), query
    ).order_by("last_name", "first_name", "id")
    page = Paginator(pupils, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_many(request, AuditAction.READ, page.object_list,
                      detail={"view": "pupil_list", "page": page.number, "search": query})
    return render(request, "welfare/pupils/list.html", {"page": page, "query": query})


@never_cache
@municipality_staff_required
@step_up_required
def pupil_detail(request, pk: int):
    """One pupil's register data and guardians: the confidential record (step-up MFA).

    404 both for a pupil who does not exist here and for one the user may not see; the
    refused attempt on an existing pupil is audit-logged as DENIED.
    """
    pupil = (Student.objects.select_related("school", "group").prefetch_related("guardians")
             .filter(pk=pk).first())
    try:
        if pupil is None:
            raise PermissionDenied
        policy.require(request.user, Action.VIEW_PUPIL, pupil)
    except PermissionDenied:
        audit.record(request, AuditAction.DENIED, object_type="welfare.student", object_id=str(pk),
                     student_id=pupil.pk if pupil else None, detail={"view": "pupil_record"})
        raise Http404 from None
    guardians = list(pupil.guardians.all())
    audit.record(request, AuditAction.READ, obj=pupil,
                 detail={"view": "pupil_record", "guardians": [g.pk for g in guardians]})
    return render(request, "welfare/pupils/detail.html", {"pupil": pupil, "guardians": guardians})
