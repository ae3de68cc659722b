"""Writes of the staff access log. Every support lookup, every admin page that
shows a user's conversation content or titles, and every denied attempt goes
through here, so the log is the one place that answers "who looked, and why"."""

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.roles import role_of
from support.models import AccessLog, DataKind, Outcome


@transaction.atomic
def access_log_record(
    *,
    staff: User | None,
    role: str,
    account: User | None,
    reason: str,
    data_kind: str,
    outcome: str = Outcome.GRANTED,
    path: str = "",
    method: str = "",
) -> AccessLog:
    return AccessLog.objects.create(
        staff=staff,
        role=role,
        account=account,
        reason=reason.strip()[:500],
        data_kind=data_kind,
        outcome=outcome,
        path=path[:500],
        method=method[:8],
    )


def _record_from_request(request: HttpRequest, **fields) -> AccessLog:
    """An access-log row for the requesting person, with the request's path."""
    user = request.user if request.user.is_authenticated else None
    return access_log_record(
        staff=user,
        role=role_of(user),
        path=request.get_full_path(),
        method=request.method or "",
        **fields,
    )


def access_granted_record(
    *, request: HttpRequest, account: User | None, reason: str, data_kind: str
) -> AccessLog:
    """A granted access by the requesting staff member."""
    return _record_from_request(request, account=account, reason=reason, data_kind=data_kind)


def access_denied_record(
    *, request: HttpRequest, reason: str = "", account: User | None = None
) -> AccessLog:
    """A refused attempt: nothing was shown (data kind "none")."""
    return _record_from_request(
        request, account=account, reason=reason, data_kind=DataKind.NONE, outcome=Outcome.DENIED
    )
