"""Reads of accounts and their consent ledger.

"The consent in force at a moment" is defined once, in accounts.consent; the
queries here order the ledger by its IN_FORCE_ORDER so they agree with it.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import BooleanField, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.consent import IN_FORCE_ORDER, LEDGER_ORDER, ConsentEntry
from accounts.models import AutoDeleteChange, ConsentChange, User


def consent_ledgers(*, user_ids: Iterable[int]) -> dict[int, list[ConsentEntry]]:
    """The ledgers of several accounts in one query, each in ledger
    order (LEDGER_ORDER), so `accounts.consent.consent_at(ledger, at)` gives what
    consent_allowed(user_id=..., at=at) would. An account without entries is
    left out (consent_at of an empty ledger: not allowed)."""
    ledgers: dict[int, list[ConsentEntry]] = {}
    for user_id, at, allowed in (
        ConsentChange.objects.filter(user_id__in=list(user_ids))
        .order_by(*LEDGER_ORDER)
        .values_list("user_id", "effective_at", "allowed")
    ):
        ledgers.setdefault(user_id, []).append(ConsentEntry(effective_at=at, allowed=allowed))
    return ledgers


def consent_current(*, user_id: int, at: datetime | None = None) -> ConsentChange | None:
    """The ledger entry in force at `at` (now by default), or None: not allowed."""
    entries = ConsentChange.objects.filter(user_id=user_id)
    if at is not None:
        entries = entries.filter(effective_at__lte=at)
    return entries.order_by(*IN_FORCE_ORDER).first()


def consent_allowed(*, user_id: int, at: datetime | None = None) -> bool:
    entry = consent_current(user_id=user_id, at=at)
    return bool(entry and entry.allowed)


def consent_allowed_at(*, user_ref: str | OuterRef, moment) -> Coalesce:
    """consent_allowed as an SQL expression, for bulk reads and rewrites: the
    consent of the account `user_ref` (an outer column) at `moment` (a value
    or an outer column), false when no entry was in force."""
    user = OuterRef(user_ref) if isinstance(user_ref, str) else user_ref
    in_force = (
        ConsentChange.objects.filter(user_id=user, effective_at__lte=moment)
        .order_by(*IN_FORCE_ORDER)
        .values("allowed")[:1]
    )
    return Coalesce(Subquery(in_force), Value(False), output_field=BooleanField())


def user_by_external_id(external_id: str) -> User | None:
    return User.objects.filter(external_id=external_id).first()


def users_by_external_id(external_ids: Iterable[str]) -> dict[str, User]:
    """{external id: account} of the accounts among `external_ids`, with
    what ingest asks of them (the key, User.takes_new_data)."""
    return {
        user.external_id: user
        for user in User.objects.filter(external_id__in=list(external_ids)).only(
            "pk", "external_id", "erasure_requested_at"
        )
    }


def account_external_ids(user_ids: Iterable[int]) -> dict[int, str | None]:
    """{account id: external id} of these accounts."""
    return dict(User.objects.filter(pk__in=list(user_ids)).values_list("pk", "external_id"))


def auto_delete_months_of(*, user_ref: str = "user_id") -> Subquery:
    """The auto-delete in force of the account at `user_ref` (an outer
    column), as an SQL expression: months, or NULL when off."""
    return Subquery(
        User.objects.filter(pk=OuterRef(user_ref)).values("auto_delete_months")[:1],
        output_field=IntegerField(),
    )


def auto_delete_history(*, user_id: int, limit: int | None = 200) -> list[AutoDeleteChange]:
    """The account's auto-delete choices, newest first."""
    changes = AutoDeleteChange.objects.filter(user_id=user_id).order_by("-recorded_at", "-id")
    return list(changes[:limit] if limit is not None else changes)
