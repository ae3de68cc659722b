"""Download my data."""

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.auth import portal_login_required
from dashboard.export import export_chunks


@require_GET
@portal_login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    return export_response(request)


def export_response(request: HttpRequest) -> StreamingHttpResponse:
    now = timezone.now()
    response = StreamingHttpResponse(
        export_chunks(user=request.user, now=now), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{now:%Y-%m-%d}.json"'
    response["Cache-Control"] = "no-store"
    return response
