from django.urls import path

from groupsessions import views

app_name = "groupsessions"

urlpatterns = [
    path("", views.index, name="index"),
]
