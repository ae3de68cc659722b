"""Writes of the staff access log. Every support lookup, every admin page that
shows a user's conversation content or titles, and every denied attempt goes
through here, so the log is the one place that answers "who looked, and why".

Services take plain values; `staff.http.request_trail(request)` gives the
requester's part (who, the path, the method) from a view.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.data_version import data_version_bump
from accounts.models import User
from accounts.roles import role_of
from staff.models import AccessLog, DataKind, DeniedAccessWindow, Outcome

# The columns' widths: a longer path or reason is cut, never refused.
MAX_TEXT = 500
MAX_METHOD = 8
MAX_ROUTE = 200
MAX_REQUESTER = 64


def stored_path(path: str) -> str:
    """`path` as the log keeps it: whole when it fits the column; otherwise
    the path itself (cut if need be) and only the length of its query string,
    so that a long query string can neither bloat a row nor push the path out."""
    if len(path) <= MAX_TEXT:
        return path
    base, _, query = path.partition("?")
    note = f"?[query string of {len(query)} characters not kept]" if query else ""
    return base[: MAX_TEXT - len(note)] + note


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
    grant: AccessLog | None = None,
) -> AccessLog:
    """One row; the role is that of `staff` (anonymous when None)."""
    if account is not None and outcome == Outcome.GRANTED:
        data_version_bump(user_ids=[account.pk])  # the overview lists granted accesses
    return AccessLog.objects.create(
        staff=staff,
        role=role_of(staff),
        account=account,
        reason=reason.strip()[:MAX_TEXT],
        data_kind=data_kind,
        outcome=outcome,
        path=stored_path(path),
        method=method[:MAX_METHOD],
        grant=grant,
    )


def access_granted_record(
    *,
    staff: User | None,
    account: User | None,
    reason: str,
    data_kind: str,
    path: str = "",
    method: str = "",
    route: str = "",
    client: str = "",
) -> AccessLog:
    """A granted access by `staff`: its row is the grant a page opens with.
    (`route` and `client`, from request_trail, matter to refusals only.)"""
    return access_log_record(
        staff=staff, account=account, reason=reason, data_kind=data_kind, path=path, method=method
    )


def access_content_viewed_record(
    *,
    grant: AccessLog,
    staff: User | None,
    path: str = "",
    method: str = "",
    route: str = "",
    client: str = "",
) -> AccessLog:
    """One view of content under `grant`: a granted row of its own (the
    account's owner sees each view), with the grant's reason and kind."""
    return access_log_record(
        staff=staff,
        account=grant.account,
        reason=grant.reason,
        data_kind=grant.data_kind,
        path=path,
        method=method,
        grant=grant,
    )


def denial_window_start(at: datetime) -> datetime:
    """The start of the window `at` falls in (windows aligned on the epoch)."""
    width = int(timedelta(minutes=settings.PORTAL_DENIAL_WINDOW_MINUTES).total_seconds())
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % width, tz=at.tzinfo)


def access_denied_record(
    *,
    staff: User | None,
    account: User | None = None,
    reason: str = "",
    path: str = "",
    method: str = "",
    route: str = "",
    client: str = "",
) -> AccessLog:
    """A refused attempt: nothing was shown (data kind "none").

    Recorded once per requester (the user, or the client's address when
    anonymous), route and window (PORTAL_DENIAL_WINDOW_MINUTES): the first
    refusal is a row of the log, the later ones add to the count of its
    DeniedAccessWindow. Returns the window's row."""
    now = timezone.now()
    window = {
        "requester": (f"user:{staff.pk}" if staff is not None else f"client:{client}")[
            :MAX_REQUESTER
        ],
        "route": (route or path.partition("?")[0])[:MAX_ROUTE],
        "window_start": denial_window_start(now),
    }
    with transaction.atomic():
        first = _denial_counted(window, now)
        if first is not None:
            return first
        try:
            with transaction.atomic():
                row = access_log_record(
                    staff=staff,
                    account=account,
                    reason=reason,
                    data_kind=DataKind.NONE,
                    outcome=Outcome.DENIED,
                    path=path,
                    method=method,
                )
                DeniedAccessWindow.objects.create(first=row, last_at=now, **window)
                return row
        except IntegrityError:
            # Another request opened the same window meanwhile: count on it.
            return _denial_counted(window, now)


def _denial_counted(window: dict, now: datetime) -> AccessLog | None:
    if not DeniedAccessWindow.objects.filter(**window).update(count=F("count") + 1, last_at=now):
        return None
    return DeniedAccessWindow.objects.select_related("first").get(**window).first
