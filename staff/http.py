"""What a view passes to the access-log services about its request."""

from django.http import HttpRequest


def request_trail(request: HttpRequest) -> dict:
    """The requester (None when anonymous), the full path and the method, the
    route (the URL pattern matched, which bounds how many distinct values a
    requester can produce) and the client's address, as keyword arguments of
    staff.services.access_*_record."""
    user = request.user if request.user.is_authenticated else None
    match = request.resolver_match
    return {
        "staff": user,
        "path": request.get_full_path(),
        "method": request.method or "",
        "route": match.route if match is not None else request.path,
        "client": request.META.get("REMOTE_ADDR", ""),
    }
