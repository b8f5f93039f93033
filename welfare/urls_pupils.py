from django.urls import path

from welfare import views_pupils

app_name = "pupils"

urlpatterns = [
    path("", views_pupils.pupil_list, name="list"),
    path("<int:pk>/", views_pupils.pupil_detail, name="detail"),
]
