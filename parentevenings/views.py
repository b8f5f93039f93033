from django.shortcuts import render

from welfare.policy import municipality_staff_required


@municipality_staff_required
def index(request):
    """Landing page of the module; its content comes with the module's own issue."""
    return render(request, "parentevenings/index.html")
