"""Writes of accounts and the consent ledger.

This app knows nothing of retention: a caller whose write moves retention
facts (an account's type) refreshes the deadlines itself, and the article
version a consent change was given under is passed in.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.data_version import data_version_bump
from accounts.forms import AccountPasswordResetForm
from accounts.models import ConsentChange, ConsentSource, User
from accounts.selectors import consent_current
from connected.events import CONSENT_CHANGED, iso_utc
from connected.services.outbox import outbox_record

RESET_MAIL_BODY = "registration/password_reset_email.txt"
RESET_MAIL_SUBJECT = "registration/password_reset_subject.txt"


@dataclass(frozen=True)
class AccountUpsert:
    user: User
    created: bool
    type_changed: bool  # the caller rewrites the account's deadlines


@transaction.atomic
def account_upsert(*, external_id: str, email: str, account_type: str, plan: str) -> AccountUpsert:
    """Create or update the account the chat service knows by `external_id`.
    A new account has no usable password: its owner sets one by the reset flow."""
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
        return AccountUpsert(user, created=True, type_changed=False)
    type_changed = user.account_type != account_type
    data_version_bump(user_ids=[user.pk])
    user.email, user.account_type, user.plan = email, account_type, plan
    user.save(update_fields=["email", "account_type", "plan"])
    return AccountUpsert(user, created=False, type_changed=type_changed)


def consent_record(
    *,
    user: User,
    allowed: bool,
    source: str,
    article_version: str,
    effective_at: datetime | None = None,
    origin_system_id: int | None = None,
) -> ConsentChange | None:
    """Append a consent change, given under `article_version` of the help
    article. It rewrites no conversation: only new or resumed activity picks
    up the new consent. Every connected system subscribed hears of it (the
    outbox, same transaction), except `origin_system_id`, the system that
    reported it. Recording the value already in force is a no-op (returns
    None), so double clicks do not pad the ledger."""
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
        change = ConsentChange.objects.create(
            user=user,
            allowed=allowed,
            effective_at=effective_at,
            source=source,
            article_version=article_version,
        )
        data_version_bump(user_ids=[user.pk])
        if user.external_id:
            outbox_record(
                type=CONSENT_CHANGED,
                account=user.external_id,
                data={"account": user.external_id, "allowed": allowed, "at": iso_utc(effective_at)},
                origin_system_id=origin_system_id,
            )
        return change


class ConsentNotTheUsers(ValueError):
    """A commercial account's training use is governed by its organisation's
    commercial terms, not by its user: the dashboard and the API refuse the
    change (the chat service may still import one)."""

    def __init__(self) -> None:
        super().__init__("Your organisation's commercial terms govern training on your data.")


def consent_may_choose(*, user: User) -> None:
    """Raises ConsentNotTheUsers when the user may not set their own consent
    (a commercial account); a preview asks this before showing anything."""
    if user.is_commercial:
        raise ConsentNotTheUsers


def consent_choose(*, user: User, allowed: bool, article_version: str) -> ConsentChange | None:
    """The user's own choice, from the dashboard or /api/me/consent: refused
    for commercial accounts (ConsentNotTheUsers), else consent_record."""
    consent_may_choose(user=user)
    return consent_record(
        user=user,
        allowed=allowed,
        source=ConsentSource.DASHBOARD,
        article_version=article_version,
    )


def password_reset_mail_send(*, email: str, domain: str, use_https: bool) -> int:
    """Send the password-reset mail to every active account with `email`
    (none for an unknown address); returns how many were sent. Runs in a
    Celery task, so the reset page does the same work for a known and an
    unknown address and answers in the same time. The link is built for
    `domain` (the host the request came to) over https if `use_https`."""
    form = AccountPasswordResetForm(data={"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    form.save(
        domain_override=domain,
        use_https=use_https,
        email_template_name=RESET_MAIL_BODY,
        subject_template_name=RESET_MAIL_SUBJECT,
    )
    return len(users)
