from django.urls import path

from welfare import views_dashboard, views_imports

app_name = "welfare"

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("export/<slug:key>.csv", views_dashboard.export, {"fmt": "csv"}, name="dashboard_export_csv"),
    path("export/<slug:key>.xlsx", views_dashboard.export, {"fmt": "xlsx"}, name="dashboard_export_xlsx"),
    path("reports/", views_dashboard.request_report, name="request_report"),
    path("imports/", views_imports.register_import, name="register_import"),
]
