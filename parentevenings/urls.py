from django.urls import path, re_path

from parentevenings import views, views_public

app_name = "parentevenings"

# Public pages (no sign-in) name the evening by its public token and the registration by a signed
# token; both are opaque strings, never database ids.
TOKEN = r"(?P<token>[A-Za-z0-9_-]+)"
SIGNED = r"(?P<token>[A-Za-z0-9_:.-]+)"
LANG = r"(?P<code>[a-z0-9]+)"  # unknown codes: 404 from the view

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.evening_edit, name="evening_new"),
    path("overview/", views.overview, name="overview"),
    path("agencies/", views.agencies, name="agencies"),
    path("agencies/<int:agency_pk>/", views.agencies, name="agency_edit"),
    path("settings/", views.settings_view, name="settings"),
    path("<int:pk>/", views.evening_detail, name="evening"),
    path("<int:pk>/edit/", views.evening_edit, name="evening_edit"),
    path("<int:pk>/agencies/", views.evening_agency, name="evening_agency"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    re_path(rf"^(?P<pk>[0-9]+)/languages/{LANG}/$", views.language_edit, name="language"),
    re_path(rf"^(?P<pk>[0-9]+)/languages/{LANG}/flyer\.pdf$", views.flyer, name="flyer"),
    re_path(rf"^(?P<pk>[0-9]+)/languages/{LANG}/interpreters/new/$", views.booking_edit, name="booking_new"),
    re_path(rf"^(?P<pk>[0-9]+)/languages/{LANG}/interpreters/(?P<booking_pk>[0-9]+)/$", views.booking_edit,
            name="booking_edit"),
    # Public
    re_path(rf"^e/{TOKEN}/$", views_public.overview, name="public_overview"),
    re_path(rf"^e/{TOKEN}/{LANG}/$", views_public.language_page, name="public_language"),
    re_path(rf"^e/{TOKEN}/{LANG}/feedback/$", views_public.feedback_page, name="public_feedback"),
    re_path(rf"^r/{SIGNED}/$", views_public.registration_page, name="public_cancel"),
]
