from django.urls import path

from . import views

app_name = "travel"
urlpatterns = [
    path("", views.home, name="home"),
    path("destinations/", views.destination_list, name="destinations"),
    path("destinations/<slug:slug>/", views.destination_detail, name="destination"),
    path("about/", views.about, name="about"),
    path("favicon.ico", views.favicon),
]
