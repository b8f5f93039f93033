"""URL patterns served on every host, public or municipal."""

from django.urls import include, path

from welfare import views as welfare_views

urlpatterns = [
    path("healthz", welfare_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler403 = "welfare.views.permission_denied"
handler404 = "welfare.views.page_not_found"
handler500 = "welfare.views.server_error"
