from django.urls import path

from welfare import views_privacy

app_name = "privacy"

urlpatterns = [
    path("subject-access/", views_privacy.subject_access, name="subject_access"),
    path("subject-access/<int:student_id>/json/", views_privacy.subject_access_json, name="subject_access_json"),
    path("subject-access/<int:student_id>/pdf/", views_privacy.subject_access_pdf, name="subject_access_pdf"),
    path("retention/", views_privacy.retention_settings, name="retention"),
]
