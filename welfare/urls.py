from django.urls import path

from welfare import views, views_imports

app_name = "welfare"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("imports/", views_imports.register_import, name="register_import"),
]
