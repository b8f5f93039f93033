from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

NAV = [
    ("annualclock:index", _("Annual clock")),
    ("groupsessions:index", _("Group sessions")),
    ("absences:index", _("Absences")),
    ("parentevenings:index", _("Parent evenings")),
    ("welfare:dashboard", _("Dashboard")),
]


def shell(request):
    """What the base template needs: the municipality served and the navigation."""
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or connection.schema_name == "public"
    nav = []
    if not is_public:
        path = request.path
        for name, label in NAV:
            url = reverse(name)
            nav.append({"url": url, "label": label, "current": path.startswith(url)})
    return {
        "municipality": None if is_public else tenant,
        "nav_items": nav,
        "ui_languages": settings.LANGUAGES,
    }
