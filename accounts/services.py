"""Writes of accounts and the consent ledger."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import AccountType, ConsentChange, User
from accounts.selectors import consent_current


@transaction.atomic
def account_upsert(
    *, external_id: str, email: str, account_type: str, plan: str
) -> tuple[User, bool]:
    """Create or update the account the chat service knows by `external_id`.
    A new account has no usable password: its owner sets one by the reset flow.
    A change of account type rewrites the account's deadlines."""
    from retention.services.deadlines import refresh_account_deadlines

    email = User.objects.normalize_email(email).lower()
    user = User.objects.select_for_update().filter(external_id=external_id).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=None,
            external_id=external_id,
            account_type=account_type,
            plan=plan,
        )
        return user, True
    type_changed = user.account_type != account_type
    user.email, user.account_type, user.plan = email, account_type, plan
    user.save(update_fields=["email", "account_type", "plan"])
    if type_changed:
        refresh_account_deadlines(user.pk)
    return user, False


def consent_record(
    *,
    user: User,
    allowed: bool,
    source: str,
    effective_at: datetime | None = None,
) -> ConsentChange | None:
    """Append a consent change. It rewrites no conversation: only new or
    resumed activity picks up the new consent. Recording the value already in
    force is a no-op (returns None), so double clicks do not pad the ledger."""
    from retention.selectors.documents import current_article_version

    with transaction.atomic():
        # Serialise changes of one account so the ledger stays in order. The
        # clock is read once the lock is held: read before, a change waiting
        # for a concurrent one would be stamped earlier than it, recorded after
        # it, and compared against the consent in force before it.
        User.objects.select_for_update().filter(pk=user.pk).first()
        effective_at = effective_at or timezone.now()
        current = consent_current(user_id=user.pk, at=effective_at)
        if current is not None and current.allowed == allowed:
            return None
        return ConsentChange.objects.create(
            user=user,
            allowed=allowed,
            effective_at=effective_at,
            source=source,
            article_version=current_article_version(),
        )


def is_consumer(user: User) -> bool:
    return user.account_type == AccountType.CONSUMER
