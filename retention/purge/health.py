"""Deletion health: is the purge keeping the article's dates?

Read from PurgeRun (the largest delay between a retain-until and the purge, over
the last 30 days), from the same due predicates the purge uses (what is
overdue now), from the receipts and the deleted conversations (the article's
"deleted ... within 30 days": a deleted item removed, or still stored, later
than deleted_at + the deleted_days setting plus one schedule interval) and
from the run lock (a lease still held after it expired, or held longer than a
run may live), and from the connected systems (an erasure a system must
confirm and has not, older than the article's "within 30 days": the copy it
holds is not known to be gone). Any of those is unhealthy and logged as an
ERROR.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Value
from django.db.models.functions import Least
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from connected.selectors import unconfirmed_erasures
from retention.models import Conversation, DeletionReceipt, PurgeRun, Rule
from retention.policy.promises import duration_text
from retention.purge import sql
from retention.purge.locks import StaleLease, stale_lease
from retention.selectors.settings import policy_durations

logger = logging.getLogger("retention.purge.health")

TASK = "retention.tasks.enforce_retention"
DEFAULT_INTERVAL = timedelta(minutes=15)
WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DeletionHealth:
    computed_at: datetime
    max_delay: timedelta  # largest retain-until -> purge delay, last 30 days
    overdue_now: int  # items past their retain-until, still stored
    oldest_overdue: timedelta | None  # how long the most overdue item has waited
    overdue_beyond_interval: int  # ... of which overdue by more than one interval
    interval: timedelta
    interval_source: str
    last_run_at: datetime | None
    last_run_status: str
    # The deletion promise (deleted_at + deleted_days), one interval of grace:
    deleted_days: int = 30
    late_purges: int = 0  # receipts of the last 30 days removed after it
    most_late: timedelta | None = None  # ... the latest of them, by how long
    deleted_past_promise: int = 0  # deleted conversations still stored after it
    stale_lock: StaleLease | None = None  # the run lock held past its time
    unconfirmed_erasures: int = 0  # erasures connected systems have not confirmed
    oldest_unconfirmed: timedelta | None = None  # how long the oldest has waited

    @property
    def unconfirmed_too_long(self) -> bool:
        return self.oldest_unconfirmed is not None and self.oldest_unconfirmed > timedelta(
            days=self.deleted_days
        )

    @property
    def healthy(self) -> bool:
        return (
            self.overdue_beyond_interval == 0
            and self.late_purges == 0
            and self.deleted_past_promise == 0
            and self.stale_lock is None
            and not self.unconfirmed_too_long
        )

    @property
    def problems(self) -> list[str]:
        """What makes it unhealthy, in words (admin and the ERROR log)."""
        found = []
        if self.overdue_beyond_interval:
            found.append(
                f"{self.overdue_beyond_interval} items overdue by more than the schedule "
                f"interval ({duration_text(self.interval)})"
            )
        if self.late_purges:
            found.append(
                f"{self.late_purges} deleted conversations were removed later than the "
                f"article's {self.deleted_days} days (the latest by {duration_text(self.most_late)})"
            )
        if self.deleted_past_promise:
            found.append(
                f"{self.deleted_past_promise} deleted conversations are still stored after the "
                f"article's {self.deleted_days} days"
            )
        if self.stale_lock:
            found.append(f"the purge run lock is {self.stale_lock.reason}")
        if self.unconfirmed_too_long:
            found.append(
                f"{self.unconfirmed_erasures} erasures are unconfirmed by connected systems, the "
                f"oldest for {duration_text(self.oldest_unconfirmed)} (more than the article's "
                f"{self.deleted_days} days)"
            )
        return found


def schedule_interval() -> tuple[timedelta, str]:
    """The purge schedule's interval as admins set it in django-celery-beat."""
    task = (
        PeriodicTask.objects.filter(task=TASK, enabled=True)
        .select_related("interval")
        .order_by("id")
        .first()
    )
    if task is None:
        return DEFAULT_INTERVAL, "default (no enabled periodic task)"
    if task.interval is None:
        return DEFAULT_INTERVAL, f"default ({task.name!r} is not on an interval schedule)"
    interval = timedelta(**{task.interval.period: task.interval.every})
    return interval, f"periodic task {task.name!r}"


def _overdue(
    table: str, alias: str, predicate: str, deadline: str, now, late
) -> tuple[int, int, object]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), "
            f"COALESCE(SUM(CASE WHEN {alias}.{deadline} <= %s THEN 1 ELSE 0 END), 0), "
            f"MIN({alias}.{deadline}) "
            f"FROM {table} {alias} JOIN {sql.USER} u ON u.id = {alias}.user_id WHERE {predicate}",
            [late, now],
        )
        return cursor.fetchone()


def deletion_promise_terms() -> tuple[int, timedelta]:
    """(the deleted_days setting in force, one schedule interval): what
    retention.policy.promises.receipt_late_by needs to tell a late receipt,
    the same terms deletion health uses."""
    return policy_durations().deleted_days, schedule_interval()[0]


def _late_deletions(*, now: datetime, days: int, grace: timedelta) -> tuple[int, timedelta | None]:
    """Receipts of the last 30 days of conversations the user deleted that
    were removed more than `grace` after the later of deleted_at + days and
    their own retain-until: how many, and the worst lateness (the SQL twin of
    retention.policy.promises.receipt_late_by). The rule must be `deleted`:
    flagged content is kept 2 years from the flag, deletion included. (No
    index on purged_at: a scan of the receipts table after every run; see
    docs/purge.md.)"""
    promise = timedelta(days=days)
    late = DeletionReceipt.objects.filter(
        rule=Rule.DELETED,
        deleted_at__isnull=False,
        purged_at__gte=now - WINDOW,
        purged_at__gt=F("deleted_at") + (promise + grace),
        # ... and after its own deadline (receipt_late_by: the later of the two).
        retain_until__lt=F("purged_at") - grace,
    ).aggregate(
        n=Count("pk"),
        # purged_at - deleted_at - (later of promise and own deadline) + promise
        worst=Max(
            Least(
                ExpressionWrapper(F("purged_at") - F("deleted_at"), DurationField()),
                ExpressionWrapper(
                    F("purged_at") - F("retain_until") + Value(promise), DurationField()
                ),
            )
        ),
    )
    if not late["n"]:
        return 0, None
    return late["n"], late["worst"] - promise


def deletion_health(*, now: datetime | None = None) -> DeletionHealth:
    now = now or timezone.now()
    interval, source = schedule_interval()
    days = policy_durations().deleted_days
    late = now - interval
    overdue = beyond = 0
    oldest = None
    for table, alias, predicate, deadline in (
        (sql.CONVERSATION, "c", sql.CONVERSATION_DUE, "retain_until"),
        (sql.FLAG, "f", sql.SCORES_DUE, "scores_retain_until"),
        (sql.FEEDBACK, "fb", sql.FEEDBACK_DUE, "retain_until"),
    ):
        count, late_count, earliest = _overdue(table, alias, predicate, deadline, now, late)
        overdue += count
        beyond += late_count
        earliest = sql.as_aware(earliest)
        if earliest is not None and (oldest is None or earliest < oldest):
            oldest = earliest
    recent = PurgeRun.objects.filter(started_at__gte=now - WINDOW)
    max_delay = recent.aggregate(m=Max("max_delay_seconds"))["m"] or 0.0
    last = PurgeRun.objects.exclude(status=PurgeRun.Status.DRY_RUN).order_by("-started_at").first()
    late_purges, most_late = _late_deletions(now=now, days=days, grace=interval)
    unconfirmed, oldest_erasure = unconfirmed_erasures(now=now)
    return DeletionHealth(
        computed_at=now,
        max_delay=timedelta(seconds=max_delay),
        overdue_now=overdue,
        oldest_overdue=(now - oldest) if oldest else None,
        overdue_beyond_interval=beyond,
        interval=interval,
        interval_source=source,
        last_run_at=last.started_at if last else None,
        last_run_status=last.status if last else "",
        deleted_days=days,
        late_purges=late_purges,
        most_late=most_late,
        deleted_past_promise=Conversation.objects.filter(
            rule=Rule.DELETED, deleted_at__lt=now - timedelta(days=days) - interval
        ).count(),
        stale_lock=stale_lease(now=now),
        unconfirmed_erasures=unconfirmed,
        oldest_unconfirmed=(now - oldest_erasure) if oldest_erasure else None,
    )


def log_deletion_health(*, now: datetime | None = None) -> DeletionHealth:
    """deletion_health(), logged as an ERROR when it is unhealthy: anything
    overdue by more than one schedule interval, a deleted item removed or
    still stored after the article's days, a stale run lock (the alerting
    hook)."""
    health = deletion_health(now=now)
    if not health.healthy:
        logger.error(
            "deletion health: %s; %s overdue in all, oldest waiting %s",
            "; ".join(health.problems),
            health.overdue_now,
            duration_text(health.oldest_overdue) or "-",
        )
    return health
