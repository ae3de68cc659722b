"""Writes of the staff access log. Every support lookup, every admin page that
shows a user's conversation content or titles, and every denied attempt goes
through here, so the log is the one place that answers "who looked, and why".

Services take plain values; `staff.http.request_trail(request)` gives the
requester's part (who, the path, the method) from a view.
"""

from django.db import transaction

from accounts.models import User
from accounts.roles import role_of
from staff.models import AccessLog, DataKind, Outcome

# The columns' widths: a longer path or reason is cut, never refused.
MAX_TEXT = 500
MAX_METHOD = 8


@transaction.atomic
def access_log_record(
    *,
    staff: User | None,
    account: User | None,
    reason: str,
    data_kind: str,
    outcome: str = Outcome.GRANTED,
    path: str = "",
    method: str = "",
) -> AccessLog:
    """One row; the role is that of `staff` (anonymous when None)."""
    return AccessLog.objects.create(
        staff=staff,
        role=role_of(staff),
        account=account,
        reason=reason.strip()[:MAX_TEXT],
        data_kind=data_kind,
        outcome=outcome,
        path=path[:MAX_TEXT],
        method=method[:MAX_METHOD],
    )


def access_granted_record(
    *,
    staff: User | None,
    account: User | None,
    reason: str,
    data_kind: str,
    path: str = "",
    method: str = "",
) -> AccessLog:
    """A granted access by `staff`: its row is the grant a page opens with."""
    return access_log_record(
        staff=staff, account=account, reason=reason, data_kind=data_kind, path=path, method=method
    )


def access_denied_record(
    *,
    staff: User | None,
    account: User | None = None,
    reason: str = "",
    path: str = "",
    method: str = "",
) -> AccessLog:
    """A refused attempt: nothing was shown (data kind "none")."""
    return access_log_record(
        staff=staff,
        account=account,
        reason=reason,
        data_kind=DataKind.NONE,
        outcome=Outcome.DENIED,
        path=path,
        method=method,
    )
