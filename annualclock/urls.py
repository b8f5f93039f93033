from django.urls import path, re_path

from annualclock import views, views_feeds, views_settings, views_templates

app_name = "annualclock"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.clock_new, name="clock_new"),
    path("my-tasks/", views.my_tasks, name="my_tasks"),
    path("clocks/<int:pk>/", views.clock_detail, name="clock_detail"),
    path("clocks/<int:pk>/activities/new/", views.activity_new, name="activity_new"),
    path("clocks/<int:pk>/reminders/", views.clock_reminders, name="clock_reminders"),
    path("clocks/<int:pk>/pdf/<str:kind>/", views.clock_document, name="clock_document"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/row/", views.activity_row, name="activity_row"),
    path("activities/<int:pk>/done/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    # The municipal coordinator's templates.
    path("templates/", views_templates.template_list, name="template_list"),
    path("templates/new/", views_templates.template_new, name="template_new"),
    path("templates/<int:pk>/", views_templates.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", views_templates.template_edit, name="template_edit"),
    path("templates/<int:pk>/activities/new/", views_templates.template_activity_new, name="template_activity_new"),
    # The coordinator's settings: reminder days and the rings of the wheel.
    path("settings/", views_settings.settings_view, name="settings"),
    # Calendar feeds: the owner's page, and the public address with its secret.
    path("feeds/", views_feeds.feed_list, name="feeds"),
    path("feeds/<int:pk>/revoke/", views_feeds.feed_revoke, name="feed_revoke"),
    path("feeds/<int:pk>/regenerate/", views_feeds.feed_regenerate, name="feed_regenerate"),
    re_path(r"^feeds/(?P<token>[A-Za-z0-9_-]+)\.ics$", views_feeds.feed_ics, name="feed_ics"),
]
