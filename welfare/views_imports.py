"""The register-import page: a municipal administrator uploads a schools, groups or students CSV."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from welfare import audit
from welfare.models import AuditAction, SchoolYear
from welfare.policy import Action, permission_required
from welfare.services.imports import KIND_CHOICES, import_register

MAX_ERRORS_SHOWN = 500


class RegisterImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file contains"),
        choices=KIND_CHOICES,
        help_text=_("Import the schools first, then the teaching groups, then the students."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("A CSV export of the student register (Wilma, Primus): separated by semicolons or commas, "
                    "UTF-8 or Windows-1252, headers in Finnish, Swedish or English."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    school_year = forms.ModelChoiceField(
        queryset=SchoolYear.objects.all(),
        required=False,
        label=_("School year of the groups (students only)"),
        empty_label=_("The current school year"),
    )


@permission_required(Action.IMPORT_REGISTER)
def register_import(request):
    """Upload form and result. The policy lets only municipal administrators (paakayttaja) in."""
    result = None
    if request.method == "POST":
        form = RegisterImportForm(request.POST, request.FILES)
        if form.is_valid():
            result = import_register(
                form.cleaned_data["kind"],
                form.cleaned_data["file"],
                school_year=form.cleaned_data["school_year"],
                user=request.user,
            )
            audit.record(request, AuditAction.UPDATE, object_type="register_import", object_id=result.kind,
                         detail=result.summary())
            if result.ok:
                form = RegisterImportForm(initial={"kind": form.cleaned_data["kind"]})
    else:
        form = RegisterImportForm()
    context = {
        "form": form,
        "result": result,
        "errors_shown": result.errors[:MAX_ERRORS_SHOWN] if result else [],
        "errors_hidden": max(len(result.errors) - MAX_ERRORS_SHOWN, 0) if result else 0,
        "max_megabytes": settings.IMPORT_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "welfare/imports.html", context)
