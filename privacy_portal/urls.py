"""URL map: the end-user dashboard, the internal ingest API, admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/internal/", include("ingest.urls")),
    path("support/", include("support.urls")),
]
