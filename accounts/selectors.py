"""Reads of accounts and their consent ledger."""

from collections.abc import Iterable
from datetime import datetime

from accounts.models import ConsentChange, User
from retention.policy import ConsentEntry


def consent_ledger(*, user_id: int) -> list[ConsentEntry]:
    return [
        ConsentEntry(effective_at=at, allowed=allowed)
        for at, allowed in ConsentChange.objects.filter(user_id=user_id)
        .order_by("effective_at", "id")
        .values_list("effective_at", "allowed")
    ]


def consent_ledgers(*, user_ids: Iterable[int]) -> dict[int, list[ConsentEntry]]:
    """The ledgers of several accounts in one query, each in consent_ledger's
    order, so `retention.policy.consent_at(ledger, at)` gives what
    consent_allowed(user_id=..., at=at) would. An account without entries is
    left out (consent_at of an empty ledger: not allowed)."""
    ledgers: dict[int, list[ConsentEntry]] = {}
    for user_id, at, allowed in (
        ConsentChange.objects.filter(user_id__in=list(user_ids))
        .order_by("effective_at", "id")
        .values_list("user_id", "effective_at", "allowed")
    ):
        ledgers.setdefault(user_id, []).append(ConsentEntry(effective_at=at, allowed=allowed))
    return ledgers


def consent_current(*, user_id: int, at: datetime | None = None) -> ConsentChange | None:
    """The ledger entry in force at `at` (now by default), or None: not allowed."""
    entries = ConsentChange.objects.filter(user_id=user_id)
    if at is not None:
        entries = entries.filter(effective_at__lte=at)
    return entries.order_by("-effective_at", "-id").first()


def consent_allowed(*, user_id: int, at: datetime | None = None) -> bool:
    entry = consent_current(user_id=user_id, at=at)
    return bool(entry and entry.allowed)


def user_by_external_id(external_id: str) -> User | None:
    return User.objects.filter(external_id=external_id).first()
