"""Writes of accounts and the consent ledger.

This app knows nothing of retention: a caller whose write moves retention
facts (an account's type) refreshes the deadlines itself, and the article
version a consent change was given under is passed in.
"""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_CACHE_KEY_PREFIX
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.auto_delete import is_valid_after_months
from accounts.backends import users_forget
from accounts.data_version import data_version_bump
from accounts.forms import AccountPasswordResetForm
from accounts.models import AutoDeleteChange, ConsentChange, ConsentSource, User, UserSession
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
    user = User.objects.select_for_update(no_key=True).filter(external_id=external_id).first()
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
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
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
        super().__init__(_("Your organisation's commercial terms govern training on your data."))


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


class AutoDeleteNotTheUsers(ValueError):
    """A commercial account is outside the consumer policy: its organisation's
    commercial terms decide how long its data is kept, so its user cannot set
    auto-delete (as with consent, ConsentNotTheUsers)."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Your organisation's commercial terms decide how long your data is kept, "
                "so auto-delete cannot be set on this account."
            )
        )


class InvalidAutoDelete(ValueError):
    """A period other than 3, 18 or 36 months (or off)."""


def auto_delete_may_choose(*, user: User) -> None:
    """Raises AutoDeleteNotTheUsers when the user may not set auto-delete (a
    commercial account); a preview asks this before showing anything."""
    if user.is_commercial:
        raise AutoDeleteNotTheUsers


def auto_delete_record(
    *, user: User, after_months: int | None, source: str = ConsentSource.DASHBOARD
) -> AutoDeleteChange | None:
    """Set the account's auto-delete (None: off): the value in force on the
    account row and a ledger entry, in one transaction. Refused for a
    commercial account (AutoDeleteNotTheUsers) and for any other period
    (InvalidAutoDelete). Recording the value already in force is a no-op
    (returns None). It rewrites no deadline: this app knows nothing of
    retention; retention.services.auto_delete.auto_delete_choose does that."""
    if not is_valid_after_months(after_months):
        raise InvalidAutoDelete(after_months)
    auto_delete_may_choose(user=user)
    with transaction.atomic():
        # One change of an account at a time, read under the lock.
        current = (
            User.objects.select_for_update(no_key=True)
            .filter(pk=user.pk)
            .values_list("auto_delete_months", flat=True)
            .get()
        )
        if current == after_months:
            user.auto_delete_months = current
            return None
        change = AutoDeleteChange.objects.create(
            user=user, after_months=after_months, source=source
        )
        User.objects.filter(pk=user.pk).update(auto_delete_months=after_months)
        users_forget(user_ids=[user.pk])  # an update sends no post_save
        data_version_bump(user_ids=[user.pk])
        user.auto_delete_months = after_months
        return change


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


def sessions_end(*, user_id: int) -> int:
    """End every session of the account, on every device: one indexed DELETE
    (accounts.sessions stamps each session with its owner). A browser still
    holding a cookie is anonymous at its next request. With the cached engine
    (accounts.cached_sessions) the cached copies go too. Returns how many."""
    sessions = UserSession.objects.filter(user_id=user_id)
    keys = list(sessions.values_list("session_key", flat=True))
    deleted, _ = sessions.delete()
    if keys and settings.SESSION_ENGINE == "accounts.cached_sessions":
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [SESSION_CACHE_KEY_PREFIX + k for k in keys]
        )
    return deleted


def account_sign_in_disable(*, user: User, at: datetime) -> None:
    """The owner asked to delete the account: nobody signs in to it again
    (no usable password, inactive, which ModelBackend refuses; a password
    reset mails only active accounts) and every session ends now. The record
    stays until nothing it owns is left (account_erase). Call with the
    account row locked."""
    user.set_unusable_password()
    user.is_active = False
    user.erasure_requested_at = user.erasure_requested_at or at
    user.save(update_fields=["password", "is_active", "erasure_requested_at"])
    sessions_end(user_id=user.pk)


def erased_email(user_id: int) -> str:
    """What an erased account's email becomes: unique, and nobody's address
    (.invalid is reserved, RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


def account_erase(*, user: User, at: datetime) -> None:
    """Erase what identifies the person: email, the chat service's id, the
    password, group memberships and failed sign-ins recorded under the email.
    The row stays, emptied, as the key the append-only ledgers (consent,
    deletion receipts, staff access log) point to: they are proof, kept
    without anything that names the person. Call it only once nothing else
    of the account is left (retention.services.accounts decides that)."""
    email = user.email
    user.email = erased_email(user.pk)
    user.external_id = None
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = user.is_superuser = False
    user.last_login = None
    user.erased_at = at
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    sessions_end(user_id=user.pk)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=email).delete()
