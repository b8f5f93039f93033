"""The bare host (e.g. localhost): a public page, nothing private."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config.urls_common import handler403, handler404, handler500  # noqa: F401
from config.urls_common import urlpatterns as common
from welfare import views as welfare_views

# The platform admin signs in through allauth (second factor, lockout) rather than its own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", welfare_views.public_home, name="public_home"),
    path("accounts/", include("allauth.urls")),
    path("platform-admin/", admin.site.urls),
    *common,
]
