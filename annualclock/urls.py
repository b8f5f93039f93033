from django.urls import path

from annualclock import views

app_name = "annualclock"

urlpatterns = [
    path("", views.index, name="index"),
]
