"""Webhook delivery, at least once, per Standard Webhooks.

A pass works on one system at a time: it claims a small batch of due rows
(a lease, so the HTTP calls run outside any transaction), sends them in
order and records each outcome. Claims of one system take turns on a lock
of the system row and take rows FOR UPDATE SKIP LOCKED, so two workers
never send one event at once; their batches are disjoint and run side by
side. An account's event is claimed only when no
earlier event of that account for that system is waiting, failing, claimed
by someone else or dead: events of one account arrive in order.

A system that times out or refuses the connection ends its own pass at
once, so a dead endpoint costs one timeout per pass, and passes over other
systems run in their own tasks (connected.tasks).
"""

import http.client
import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from connected.events import iso_utc
from connected.models import ConnectedSystem, Delivery, DeliveryState
from connected.retry import is_dead, retry_delay

CLAIM_BATCH = 20
PASS_LIMIT = 1_000  # deliveries one pass of one system sends at most
PASS_SECONDS = 60.0  # and the time after which it claims no more
ERROR_LENGTH = 500


@dataclass
class PassReport:
    system: str
    sent: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0

    def line(self) -> str:
        return (
            f"{self.system}: {self.sent} sent, {self.failed} failed, "
            f"{self.dead} dead-lettered, {self.pending} pending"
        )


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    # The endpoint itself is unreachable (refused, timeout): stop the pass.
    unreachable: bool = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A signed body is for the registered URL only; a redirect is a failure.
    def redirect_request(self, *args, **kwargs):
        return None


# No proxies from the environment: endpoints are reached directly.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def webhook_body(delivery: Delivery) -> str:
    event = delivery.event
    return json.dumps(
        {"type": event.type, "timestamp": iso_utc(event.created_at), "data": event.data},
        separators=(",", ":"),
    )


def webhook_signature(*, system: ConnectedSystem, msg_id: str, at: datetime, body: str) -> str:
    """`v1,<sig>`, and during a rotation's overlap also the old secret's, so
    a receiver still holding either secret verifies."""
    secrets = [system.signing_secret]
    expires = system.previous_secret_expires_at
    # The clock, not `at`: `at` is cut to the second and would outlive the overlap.
    if system.previous_signing_secret and expires and timezone.now() < expires:
        secrets.append(system.previous_signing_secret)
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


def webhook_send(*, system: ConnectedSystem, delivery: Delivery) -> Outcome:
    body = webhook_body(delivery)
    at = datetime.fromtimestamp(int(time.time()), UTC)
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked at registration)
        system.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "privacy-portal-webhooks",
            "webhook-id": delivery.event.public_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": webhook_signature(
                system=system, msg_id=delivery.event.public_id, at=at, body=body
            ),
        },
    )
    try:
        with _opener.open(request, timeout=settings.CONNECTED_DELIVERY_TIMEOUT) as response:
            response.read(1024)
            status = response.status
    except urllib.error.HTTPError as exc:
        return Outcome(ok=False, error=f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(ok=False, error=f"unreachable: {reason}", unreachable=True)
    except (http.client.HTTPException, ValueError) as exc:  # not HTTP at all, a garbled answer
        return Outcome(ok=False, error=f"bad answer: {type(exc).__name__}", unreachable=True)
    if 200 <= status < 300:
        return Outcome(ok=True)
    return Outcome(ok=False, error=f"HTTP {status}")


def _claim(
    *, system_id: int, now: datetime, ignore_backoff: bool, limit: int, skip_accounts: set[str]
) -> tuple[ConnectedSystem | None, list[Delivery]]:
    lease = now + timedelta(seconds=limit * (settings.CONNECTED_DELIVERY_TIMEOUT + 1) + 30)
    with transaction.atomic():
        # Claims of one system take turns (a short wait: a claim is one
        # statement), so two claimers never both see an account's head as free.
        system = (
            ConnectedSystem.objects.select_for_update(of=("self",))
            .filter(pk=system_id, enabled=True)
            .exclude(url="")
            .first()
        )
        if system is None:  # disabled or feed only
            return None, []
        waiting = Q(state=DeliveryState.PENDING) & Q(claimed_until__gt=now)
        if not ignore_backoff:
            waiting |= Q(state=DeliveryState.PENDING) & Q(next_attempt_at__gt=now)
        # Order per account: nothing of an account goes after its earliest
        # blocked delivery (dead, claimed by another worker, or backing off).
        # Read once per claim, grouped by account: probing for an earlier
        # blocker from every candidate row cost a scan of the account's
        # backlog per row, so a claim grew with the square of the backlog.
        # Each arm of this OR has a partial index of its own (the model's
        # Meta), so the read stays a few rows whatever the backlog.
        first_blocked = dict(
            Delivery.objects.filter(Q(state=DeliveryState.DEAD) | waiting, system_id=system_id)
            .values("account")
            .annotate(first=Min("seq"))
            .values_list("account", "first")
            .order_by()
        )
        blocked = Q()
        for account, first in first_blocked.items():
            blocked |= Q(account=account, seq__gt=first)
        due = (
            Delivery.objects.filter(system=system, state=DeliveryState.PENDING)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .exclude(blocked)
        )
        if not ignore_backoff:
            due = due.filter(next_attempt_at__lte=now)
        if skip_accounts:  # failed earlier in this pass: not again, nor what follows
            due = due.exclude(account__in=skip_accounts)
        ids = list(
            due.order_by("seq")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=ids).update(claimed_until=lease)
    claimed = list(Delivery.objects.filter(pk__in=ids).select_related("event").order_by("seq"))
    return system, claimed


def _record(*, system: ConnectedSystem, delivery: Delivery, outcome: Outcome, now: datetime) -> str:
    """Store an outcome; returns the delivery's new state."""
    update = {"attempts": delivery.attempts + 1, "last_attempt_at": now, "claimed_until": None}
    if outcome.ok:
        state = DeliveryState.DELIVERED
        update |= {"state": state, "delivered_at": now, "last_error": ""}
        ConnectedSystem.objects.filter(pk=system.pk).update(last_delivery_at=now)
    else:
        window = timedelta(days=settings.CONNECTED_RETRY_DAYS)
        dead = is_dead(first_due=delivery.created_at, now=now, retry_window=window)
        state = DeliveryState.DEAD if dead else DeliveryState.PENDING
        delay = retry_delay(attempts=update["attempts"], jitter=random.random())
        update |= {
            "state": state,
            "next_attempt_at": now + delay,
            "last_error": outcome.error[:ERROR_LENGTH],
        }
        ConnectedSystem.objects.filter(pk=system.pk).update(
            last_error=outcome.error[:ERROR_LENGTH], last_error_at=now
        )
    # Only while still ours: a lease that ran out may have been re-claimed.
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(**update)
    return state


def _record_delivered(
    *, system: ConnectedSystem, deliveries: list[Delivery], now: datetime
) -> None:
    """The deliveries of one claimed batch that succeeded, in one short
    transaction: a commit per batch, not two per event (a commit is most of
    a delivery's cost on a local endpoint). A crash before it means these
    are sent again, which at-least-once delivery allows (receivers dedupe on
    webhook-id)."""
    if not deliveries:
        return
    with transaction.atomic():
        # Only while still ours: a lease that ran out may have been re-claimed.
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], state=DeliveryState.PENDING
        ).update(
            state=DeliveryState.DELIVERED,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            delivered_at=now,
            last_error="",
            claimed_until=None,
        )
        ConnectedSystem.objects.filter(pk=system.pk).update(last_delivery_at=now)


def _release(deliveries: list[Delivery]) -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(claimed_until=None)


def deliver_system(
    *,
    system_id: int,
    now: datetime | None = None,
    ignore_backoff: bool = False,
    limit: int = PASS_LIMIT,
    seconds: float = PASS_SECONDS,
) -> PassReport:
    """One delivery pass over one system: due deliveries in order, until none
    is due, `limit` were tried, `seconds` passed or the endpoint is
    unreachable. `now` fixes the clock of the schedule (tests, the command);
    signatures always carry the real time."""
    name = ConnectedSystem.objects.filter(pk=system_id).values_list("name", flat=True).first()
    report = PassReport(system=name or f"#{system_id}")
    started = time.monotonic()
    tried = 0
    failed_accounts: set[str] = set()
    while tried < limit and time.monotonic() - started < seconds:
        clock = now or timezone.now()
        system, claimed = _claim(
            system_id=system_id,
            now=clock,
            ignore_backoff=ignore_backoff,
            limit=min(CLAIM_BATCH, limit - tried),
            skip_accounts=failed_accounts,
        )
        if not claimed:
            break
        delivered: list[Delivery] = []
        for index, delivery in enumerate(claimed):
            if delivery.account in failed_accounts:
                _release([delivery])  # its predecessor failed: wait behind it
                continue
            outcome = webhook_send(system=system, delivery=delivery)
            tried += 1
            if outcome.ok:
                delivered.append(delivery)
                report.sent += 1
                continue
            state = _record(
                system=system, delivery=delivery, outcome=outcome, now=now or timezone.now()
            )
            report.failed += 1
            report.dead += state == DeliveryState.DEAD
            failed_accounts.add(delivery.account)
            if outcome.unreachable:
                _release(claimed[index + 1 :])
                break
        else:
            _record_delivered(system=system, deliveries=delivered, now=now or timezone.now())
            continue
        _record_delivered(system=system, deliveries=delivered, now=now or timezone.now())
        break
    report.pending = Delivery.objects.filter(
        system_id=system_id, state=DeliveryState.PENDING
    ).count()
    return report


def deliveries_retry(*, delivery_ids: list[int], now: datetime | None = None) -> int:
    """Dead letters back to pending, due now (the admin's "retry now"). A
    retried letter that fails again is dead again at once: its retry window
    has passed."""
    return Delivery.objects.filter(pk__in=delivery_ids, state=DeliveryState.DEAD).update(
        state=DeliveryState.PENDING, next_attempt_at=now or timezone.now(), claimed_until=None
    )


def systems_to_deliver() -> list[int]:
    """Enabled systems with an endpoint, in a stable order."""
    return list(
        ConnectedSystem.objects.filter(enabled=True)
        .exclude(url="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
