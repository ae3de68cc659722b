"""What a view passes to the access-log services about its request."""

from django.http import HttpRequest


def request_trail(request: HttpRequest) -> dict:
    """The requester (None when anonymous), the full path and the method, as
    keyword arguments of staff.services.access_*_record."""
    user = request.user if request.user.is_authenticated else None
    return {"staff": user, "path": request.get_full_path(), "method": request.method or ""}
