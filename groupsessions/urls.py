from django.urls import path, re_path

from groupsessions import views, views_feedback

app_name = "groupsessions"

urlpatterns = [
    path("", views.index, name="index"),
    path("settings/", views.settings_view, name="settings"),
    path("schools/<int:pk>/", views.school_view, name="school"),
    path("schools/<int:pk>/groups/", views.add_group, name="add_group"),
    path("groups/<int:group_pk>/plan/", views.plan, name="plan"),
    path("groups/<int:group_pk>/remove/", views.remove_group, name="remove_group"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", views.edit, name="edit"),
    path("sessions/<int:pk>/delete/", views.delete, name="delete"),
    path("sessions/<int:pk>/record/", views.record, name="record"),
    path("sessions/<int:pk>/qr/", views.qr_page, name="qr"),
    path("sessions/<int:pk>/follow-ups/", views.add_follow_up, name="add_follow_up"),
    path("sessions/<int:pk>/follow-ups/<int:follow_up_pk>/to-clock/", views.follow_up_to_clock,
         name="follow_up_to_clock"),
    # The pupils' anonymous form: no sign-in; the token is the session's unguessable key.
    re_path(r"^feedback/(?P<token>[A-Za-z0-9_-]+)/$", views_feedback.feedback, name="feedback"),
]
