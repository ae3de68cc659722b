"""Deletion health: is the purge keeping the article's dates?

Read from PurgeRun (the largest delay between a retain-until and the purge, over
the last 30 days) and from the same due predicates the purge uses (what is
overdue now). An item overdue by more than one schedule interval means the job
is not keeping up or not running: that is logged as an ERROR. So is an
erasure that a connected system must confirm and has not, older than the
article's "within 30 days" (the deleted_days setting): the copy it holds is
not known to be gone.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from connected.selectors import unconfirmed_erasures
from retention.models import PurgeRun
from retention.purge import sql
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
    unconfirmed_erasures: int = 0  # erasures connected systems have not confirmed
    oldest_unconfirmed: timedelta | None = None  # how long the oldest has waited
    confirmation_limit: timedelta = timedelta(days=30)  # the article's "within 30 days"

    @property
    def unconfirmed_too_long(self) -> bool:
        return (
            self.oldest_unconfirmed is not None
            and self.oldest_unconfirmed > self.confirmation_limit
        )

    @property
    def healthy(self) -> bool:
        return self.overdue_beyond_interval == 0 and not self.unconfirmed_too_long


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


def deletion_health(*, now: datetime | None = None) -> DeletionHealth:
    now = now or timezone.now()
    interval, source = schedule_interval()
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
        unconfirmed_erasures=unconfirmed,
        oldest_unconfirmed=(now - oldest_erasure) if oldest_erasure else None,
        confirmation_limit=timedelta(days=policy_durations().deleted_days),
    )


def log_deletion_health(*, now: datetime | None = None) -> DeletionHealth:
    """deletion_health(), logged as an ERROR when anything is overdue by more
    than one schedule interval (the alerting hook)."""
    health = deletion_health(now=now)
    if health.unconfirmed_too_long:
        logger.error(
            "deletion health: %s erasures unconfirmed by connected systems, the oldest "
            "waiting %s (more than %s)",
            health.unconfirmed_erasures,
            health.oldest_unconfirmed,
            health.confirmation_limit,
        )
    if health.overdue_beyond_interval:
        logger.error(
            "deletion health: %s items overdue by more than the schedule interval (%s); "
            "%s overdue in all, oldest waiting %s",
            health.overdue_beyond_interval,
            health.interval,
            health.overdue_now,
            health.oldest_overdue,
        )
    return health
