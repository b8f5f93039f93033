"""/documents/: generated documents (PDF reports rendered in Celery): progress and download."""

from django.urls import path

from welfare import views_documents as views

app_name = "documents"

urlpatterns = [
    path("<int:pk>/", views.document_status, name="status"),
    path("<int:pk>/progress/", views.document_progress, name="progress"),
    path("<int:pk>/download/", views.document_download, name="download"),
]
