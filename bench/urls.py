"""URLconf of the benchmark server: every product route, plus one minimal view
that runs a single primary-key lookup. bench/load.py compares the dashboard's
throughput against it in the same server process."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from dashboard import views
from dashboard.caching import conditional_page
from privacy_portal.urls import urlpatterns as product_urlpatterns
from retention.models import Conversation


@require_GET
def minimal(request: HttpRequest, pk: int) -> HttpResponse:
    """The floor: one indexed query (primary key), a tiny text response, no
    session or user lookup (request.user is never touched)."""
    external_id = Conversation.objects.filter(pk=pk).values_list("external_id", flat=True).first()
    return HttpResponse(external_id or "-", content_type="text/plain")


urlpatterns = [
    path("bench/minimal/<int:pk>/", minimal, name="bench_minimal"),
    # The overview and the list behind conditional GET (bench/load.py --conditional).
    path("bench/conditional/", conditional_page(views.overview)),
    path("bench/conditional/conversations/", conditional_page(views.conversation_list)),
    *product_urlpatterns,
]
