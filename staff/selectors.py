"""Reads of the staff access log: the user's "Access to your data by our
staff" list (the dashboard and the export) and the grants that open a
support-console page or an admin page with content."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.roles import StaffRole
from staff.models import AccessLog, DataKind, Outcome

# A console page is opened through the access-log row of its lookup; the grant
# lasts this long, then the agent looks the account up again (with a reason).
ACCESS_GRANT_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class StaffAccess:
    """One row of "Access to your data by our staff": never the staff member."""

    at: datetime
    role: str
    role_label: str
    reason: str
    data_kind: str
    data_kind_label: str


def access_log_for_user(user: User, *, limit: int | None = 200) -> list[StaffAccess]:
    """Granted accesses to `user`'s data by staff, newest first (role, time,
    reason). The user's own requests are not staff accesses; they are left
    out in the query, before the limit, so a page of them cannot hide the
    staff rows behind it."""
    rows = (
        AccessLog.objects.filter(account_id=user.pk, outcome=Outcome.GRANTED)
        .exclude(role=StaffRole.END_USER)
        .order_by("-at", "-id")
        .values_list("at", "role", "reason", "data_kind")
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        StaffAccess(
            at=at,
            role=role,
            role_label=StaffRole(role).label,
            reason=reason,
            data_kind=kind,
            data_kind_label=DataKind(kind).label,
        )
        for at, role, reason, kind in rows
    ]


def content_grant_ttl() -> timedelta:
    """How long a reason given in Django admin opens content (a setting)."""
    return timedelta(minutes=settings.PORTAL_CONTENT_GRANT_MINUTES)


def access_grant(
    *,
    grant_id: int,
    staff: User,
    account_id: int,
    data_kind: str,
    ttl: timedelta = ACCESS_GRANT_TTL,
) -> AccessLog | None:
    """The grant that lets `staff` see `data_kind` of `account_id` now, if
    any: a granted row of theirs for that account and exactly that kind of
    data (a console lookup's metadata grant opens no content), younger than
    `ttl`, and itself a grant rather than a view under one."""
    return (
        AccessLog.objects.filter(
            pk=grant_id,
            staff_id=staff.pk,
            account_id=account_id,
            outcome=Outcome.GRANTED,
            data_kind=data_kind,
            grant__isnull=True,
            at__gte=timezone.now() - ttl,
        )
        .only("pk", "at", "role", "reason", "data_kind", "account_id")
        .first()
    )
