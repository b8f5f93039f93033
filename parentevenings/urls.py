from django.urls import path

from parentevenings import views

app_name = "parentevenings"

urlpatterns = [
    path("", views.index, name="index"),
]
