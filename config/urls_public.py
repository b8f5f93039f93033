"""The bare host (e.g. localhost): a public page, nothing private."""

from django.contrib import admin
from django.urls import path

from config.urls_common import handler403, handler404, handler500  # noqa: F401
from config.urls_common import urlpatterns as common
from welfare import views as welfare_views

urlpatterns = [
    path("", welfare_views.public_home, name="public_home"),
    path("platform-admin/", admin.site.urls),
    *common,
]
