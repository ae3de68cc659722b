"""Download my data: /export/ is a zip to read and keep (dashboard/export_zip.py);
/api/me/export stays the JSON document, streamed (dashboard/export.py)."""

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.auth import portal_login_required
from dashboard.export import export_chunks
from dashboard.export_zip import export_zip


@require_GET
@portal_login_required
def export(request: HttpRequest) -> FileResponse:
    now = timezone.now()
    # FileResponse streams the file in blocks and closes it when sent.
    response = FileResponse(
        export_zip(user=request.user, now=now),
        as_attachment=True,
        filename=f"my-data-{now:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response


def export_response(request: HttpRequest) -> StreamingHttpResponse:
    now = timezone.now()
    response = StreamingHttpResponse(
        export_chunks(user=request.user, now=now), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{now:%Y-%m-%d}.json"'
    response["Cache-Control"] = "no-store"
    return response
