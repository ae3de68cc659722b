"""URL map: the end-user dashboard, accounts, the support console, the
internal API (ingest, connected systems), the API description
(/api/openapi.json) and Django admin; the language switch (/i18n/setlang/)
and the preferences page. The error handlers answer
the portal's own pages, and JSON under /api/ (privacy_portal.http)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from dashboard.views.preferences import preferences
from privacy_portal.openapi import openapi_json

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/openapi.json", openapi_json, name="openapi"),
    path("api/internal/", include("ingest.urls")),
    path("api/internal/", include("connected.urls")),
    path("accounts/", include("accounts.urls")),
    path("support/", include("support.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("preferences/", preferences, name="preferences"),
    path("", include("dashboard.urls")),
]

handler400 = "privacy_portal.http.bad_request"
handler403 = "privacy_portal.http.permission_denied"
handler404 = "privacy_portal.http.page_not_found"
handler500 = "privacy_portal.http.server_error"
