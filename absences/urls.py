from django.urls import path

from absences import views_cases, views_imports, views_policies

app_name = "absences"

urlpatterns = [
    # "My pupils needing action" is the module's front page.
    path("", views_cases.worklist, name="index"),
    path("worklist/", views_cases.worklist, name="worklist"),
    path("school/", views_cases.school_view, name="school_view"),
    path("schools/<int:pk>/", views_cases.school_view, name="school_view"),
    path("cases/<int:pk>/", views_cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/actions/", views_cases.case_log_action, name="case_log_action"),
    path("cases/<int:pk>/entries/<int:entry_pk>/correct/", views_cases.case_correct, name="case_correct"),
    # Imports (principals for their school, municipal administrators everywhere).
    path("imports/", views_imports.import_history, name="import_history"),
    path("imports/new/", views_imports.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/columns/", views_imports.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/progress/", views_imports.import_progress, name="import_progress"),
    # Threshold policy editor (municipal administrators).
    path("policies/", views_policies.policy_list, name="policy_list"),
    path("policies/preset/", views_policies.policy_preset, name="policy_preset"),
    path("policies/<int:pk>/", views_policies.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/history/", views_policies.policy_history, name="policy_history"),
]
