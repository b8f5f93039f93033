from django.urls import path

from absences import views

app_name = "absences"

urlpatterns = [
    path("", views.index, name="index"),
]
