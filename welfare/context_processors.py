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


TOOLS = [
    ("pupils:list", _("Pupils"), "VIEW_PUPIL"),
    ("staff:list", _("Staff and roles"), "MANAGE_STAFF"),
    ("welfare:register_import", _("Register import"), "IMPORT_REGISTER"),
    ("audit:log", _("Audit log"), "VIEW_AUDIT_LOG"),
    ("privacy:subject_access", _("Data subject requests"), "EXPORT_PUPIL_DATA"),
    ("privacy:retention", _("Retention periods"), "MANAGE_RETENTION"),
]


def tools_for(user) -> list[dict]:
    """Pages beyond the five modules that this user's roles open (through the policy)."""
    from welfare.policy import Action, can

    return [{"url": reverse(name), "label": label} for name, label, action in TOOLS if can(user, Action[action])]


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
