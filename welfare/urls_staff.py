from django.urls import path

from welfare import views_staff

app_name = "staff"

urlpatterns = [
    path("", views_staff.staff_list, name="list"),
    path("invite/", views_staff.invite, name="invite"),
    path("groups/", views_staff.groups_field, name="groups"),
    path("<int:user_id>/", views_staff.staff_member, name="member"),
    path("<int:user_id>/grant/", views_staff.grant_role, name="grant"),
    path("<int:user_id>/roles/<int:grant_id>/revoke/", views_staff.revoke_role, name="revoke"),
    path("<int:user_id>/deactivate/", views_staff.deactivate, name="deactivate"),
]
