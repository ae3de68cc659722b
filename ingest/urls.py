"""The internal API, mounted at /api/internal/ (docs/ingest-api.md)."""

from django.urls import path

from ingest import views

app_name = "ingest"

urlpatterns = [
    path("events", views.events, name="events"),
    path("training-runs", views.training_runs, name="training-runs"),
    path(
        "training-runs/<str:run_id>/conversations",
        views.training_run_conversations,
        name="training-run-conversations",
    ),
]
