from django.urls import path

from welfare import views_audit

app_name = "audit"

urlpatterns = [
    path("", views_audit.audit_log, name="log"),
    path("export.csv", views_audit.audit_export, name="export"),
]
