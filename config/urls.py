"""URLs of a municipality's host (e.g. espoo.localhost)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.urls_common import handler403, handler404, handler500  # noqa: F401
from config.urls_common import urlpatterns as common
from welfare import views as welfare_views

urlpatterns = [
    path("", welfare_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("dashboard/", include("welfare.urls")),
    path("staff/", include("welfare.urls_staff")),
    path("audit/", include("welfare.urls_audit")),
    path("pupils/", include("welfare.urls_pupils")),
    path("privacy/", include("welfare.urls_privacy")),
    path("notifications/", include("welfare.urls_notifications")),
    path("documents/", include("welfare.urls_documents")),
    path("annual-clock/", include("annualclock.urls")),
    path("group-sessions/", include("groupsessions.urls")),
    path("absences/", include("absences.urls")),
    path("parent-evenings/", include("parentevenings.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *common,
]
