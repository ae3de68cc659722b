"""Deleting an account, and erasing its record once nothing of it is left.

Deleting an account is the largest destructive act a user can take, so it is
one transaction that either does everything or nothing: every conversation
leaves the history through the same service as the user's own deletes
(retention.services.conversations, so deadlines, the article's 30 days, the
purge's receipts and the connected systems' events all apply unchanged),
training consent is withdrawn in the ledger, sign-in is disabled and every
session ends. What the article keeps longer (flagged content, classification
scores, feedback) stays to its own date; the purge removes it then, and the
first purge after the last of it erases the account record
(accounts_erase_emptied). The append-only ledgers keep pointing to the
emptied row: consent history, deletion receipts and the staff access log
are proof and outlive the person's identity.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentSource, User
from accounts.roles import StaffRole, role_of
from accounts.services import account_erase, account_sign_in_disable, consent_record
from retention.models import PolicyNoticeRead
from retention.selectors.accounts import AccountHoldings, account_holdings, accounts_erasable
from retention.selectors.conversations import owned_conversations
from retention.selectors.documents import current_article_version
from retention.services.conversations import conversations_delete

ERASE_BATCH = 500


class AccountDeleteRefused(ValueError):
    """The account is not deleted; nothing changed. `code` is stable (the
    API's error), the message is for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def wrong_email() -> AccountDeleteRefused:
    return AccountDeleteRefused(
        "wrong_email", str(_("Type the email address of your account exactly to confirm."))
    )


def account_may_delete(*, user: User) -> None:
    """Raises AccountDeleteRefused when the owner may not delete the account
    themselves: a commercial account's data is governed by its organisation
    (retention.selectors.exemptions: nothing of it is purged by the consumer
    rules, so its record could never be erased either; its administrator
    closes it), and a staff account is closed by an administrator."""
    if user.is_commercial:
        raise AccountDeleteRefused(
            "commercial_account",
            str(
                _(
                    "Your organisation's commercial terms govern this account and its data: "
                    "ask your organisation's administrator to close it."
                )
            ),
        )
    if user.is_staff or user.is_superuser or role_of(user) != StaffRole.END_USER:
        raise AccountDeleteRefused(
            "staff_account", str(_("A staff account is closed by an administrator."))
        )


def email_matches(*, user: User, typed: object) -> bool:
    """Accounts keep their email in lower case and sign in case-insensitively,
    so the typed confirmation is compared the same way."""
    return isinstance(typed, str) and typed.lower() == user.email.lower()


@dataclass(frozen=True)
class AccountDeletion:
    deleted_at: datetime
    conversations_deleted: int
    consent_withdrawn: bool
    already_requested: bool
    erased: bool
    kept: AccountHoldings


def account_delete(
    *, user: User, confirm_email: str, now: datetime | None = None
) -> AccountDeletion:
    """Delete the account of `user` once `confirm_email` is its email
    (case-insensitive), all or nothing: every conversation deleted by
    conversations_delete, consent withdrawn (source "account deletion"),
    sign-in disabled, every session ended; the record erased at once if
    nothing it owns is left, else by the purge later. Raises
    AccountDeleteRefused, changing nothing, for a wrong email, a commercial
    or a staff account. Deleting again changes nothing more."""
    now = now or timezone.now()
    with transaction.atomic():
        # The account row locked first: a concurrent delete (two tabs) waits
        # here, then finds the deletion already requested.
        locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        account_may_delete(user=locked)
        if not email_matches(user=locked, typed=confirm_email):
            raise wrong_email()
        already = locked.erasure_requested_at is not None
        deleted = conversations_delete(
            user=locked, conversations=owned_conversations(user_id=locked.pk), deleted_at=now
        )
        withdrawn = consent_record(
            user=locked,
            allowed=False,
            source=ConsentSource.ACCOUNT_DELETION,
            article_version=current_article_version(),
            effective_at=now,
        )
        account_sign_in_disable(user=locked, at=now)
        erased = accounts_erase_emptied(now=now, user_ids=[locked.pk]) == 1
        kept = account_holdings(user=locked)
    return AccountDeletion(
        deleted_at=locked.erasure_requested_at,
        conversations_deleted=deleted,
        consent_withdrawn=withdrawn is not None,
        already_requested=already,
        erased=erased,
        kept=kept,
    )


def accounts_erase_emptied(*, now: datetime, user_ids: list[int] | None = None) -> int:
    """Erase the record of every account that asked to be deleted and owns
    nothing any more (retention.selectors.accounts.accounts_erasable), in
    batches of ERASE_BATCH, one transaction each; safe to re-run. Its
    dismissed policy notices go with it; receipts, the consent ledger and
    the staff access log stay, pointing at the emptied row. Returns how many
    were erased."""
    erased = 0
    while True:
        with transaction.atomic():
            candidates = accounts_erasable()
            if user_ids is not None:
                candidates = candidates.filter(pk__in=user_ids)
            # Locked and re-checked in one query: a flag arriving for the
            # account at this moment (ingest takes no new messages for it)
            # either committed first (then it is not erasable) or waits for
            # this transaction.
            batch = list(
                candidates.select_for_update(skip_locked=True).order_by("pk")[:ERASE_BATCH]
            )
            for user in batch:
                PolicyNoticeRead.objects.filter(user_id=user.pk).delete()
                account_erase(user=user, at=now)
        erased += len(batch)
        if len(batch) < ERASE_BATCH:
            return erased
