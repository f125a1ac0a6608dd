"""URL routes. /healthz and /readyz are answered by config.middleware, before routing."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("travel.urls")),
]
