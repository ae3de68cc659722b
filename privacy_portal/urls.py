"""URL map: the end-user dashboard, accounts, the support console, the
internal API (ingest, connected systems) and Django admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/internal/", include("ingest.urls")),
    path("api/internal/", include("connected.urls")),
    path("accounts/", include("accounts.urls")),
    path("support/", include("support.urls")),
    path("", include("dashboard.urls")),
]
