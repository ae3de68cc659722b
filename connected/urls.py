"""The connected systems' API, mounted at /api/internal/ beside ingest's."""

from django.urls import path

from connected import views

app_name = "connected"

urlpatterns = [
    path("changes", views.changes, name="changes"),
    path("erasures/<str:event_id>/confirm", views.erasure_confirm_view, name="erasure-confirm"),
]
