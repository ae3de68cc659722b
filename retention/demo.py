"""Demo data for `make run`: accounts whose conversations cover every rule.

Everything goes through the real services, with times relative to now, so the
dashboard shows live clocks and the first purge run has work to do. The
passwords are public by design: `seed_demo` refuses to run unless DEBUG is on
or --force is given.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import AccountType, Plan, User
from accounts.services import account_upsert, consent_record
from retention.models import Conversation
from retention.selectors.documents import current_article_version
from retention.services.conversations import (
    conversation_flag,
    conversations_delete_by_id,
    feedback_submit,
    message_add,
)
from retention.services.holds import legal_hold_place
from retention.services.training import training_run_register


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


DEMO_LOGINS = (
    DemoLogin("alice@example.com", "alice-demo-password", "end user (Pro, consumer)"),
    DemoLogin("bob@example.com", "bob-demo-password", "end user (Free, consumer, on legal hold)"),
    DemoLogin("carol@example.com", "carol-demo-password", "end user (Team, commercial)"),
    DemoLogin("agent@example.com", "agent-demo-password", "support agent (/support/)"),
    DemoLogin("admin@example.com", "admin-demo-password", "privacy admin (/admin/)"),
)


def _chat(
    user: User, external_id: str, title: str, times: list[datetime], kind: str = "chat"
) -> Conversation:
    for index, at in enumerate(times):
        message_add(
            user=user,
            conversation_external_id=external_id,
            kind=kind,
            title=title,
            message_external_id=f"{external_id}-m{index}",
            role="user" if index % 2 == 0 else "assistant",
            content=f"Demo message {index + 1} of {title!r}.",
            sent_at=at,
        )
    return Conversation.objects.get(external_id=external_id)


def _set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def seed_demo(*, now: datetime | None = None) -> list[DemoLogin]:
    now = now or timezone.now()
    day = timedelta(days=1)

    alice = account_upsert(
        external_id="demo-alice",
        email="alice@example.com",
        account_type=AccountType.CONSUMER,
        plan=Plan.PRO,
    ).user
    bob = account_upsert(
        external_id="demo-bob",
        email="bob@example.com",
        account_type=AccountType.CONSUMER,
        plan=Plan.FREE,
    ).user
    carol = account_upsert(
        external_id="demo-carol",
        email="carol@example.com",
        account_type=AccountType.COMMERCIAL,
        plan=Plan.TEAM,
    ).user

    # Alice: chats before consent (not shared), consent on 200 days ago
    # (shared), consent off 40 days ago (stays shared, leaves future runs).
    _chat(alice, "alice-recipes", "Weeknight recipes", [now - 12 * day, now - 10 * day])
    version = current_article_version()
    consent_record(
        user=alice,
        allowed=True,
        source="import",
        article_version=version,
        effective_at=now - 200 * day,
    )
    _chat(alice, "alice-trip", "Planning a trip to Lisbon", [now - 190 * day, now - 150 * day])
    _chat(
        alice,
        "alice-code",
        "Refactor the billing module",
        [now - 120 * day, now - 119 * day],
        kind="coding_session",
    )
    training_run_register(
        external_id="demo-run-1", name="Spring training run", started_at=now - 100 * day
    )
    _chat(alice, "alice-essay", "Essay outline", [now - 60 * day, now - 58 * day])
    consent_record(
        user=alice,
        allowed=False,
        source="dashboard",
        article_version=version,
        effective_at=now - 40 * day,
    )
    _chat(alice, "alice-latest", "Birthday gift ideas", [now - 2 * day, now - day])
    # Not shared (consent was off), its 30 days passed yesterday: the first
    # purge run removes it, one day after its date, as the rules say.
    _chat(alice, "alice-old-list", "Old shopping list", [now - 33 * day, now - 31 * day])

    deleted = _chat(alice, "alice-deleted", "Draft resignation letter", [now - 45 * day])
    conversations_delete_by_id(
        user=alice,
        external_ids=[deleted.external_id],
        deleted_at=now - 5 * day,
    )
    # Deleted 29 days ago: removed tomorrow, within the article's 30 days.
    # (No demo item is deleted longer ago than that: deletion health would
    # rightly call its removal late.)
    old_deleted = _chat(alice, "alice-old-deleted", "Old to-do list", [now - 90 * day])
    conversations_delete_by_id(
        user=alice,
        external_ids=[old_deleted.external_id],
        deleted_at=now - 29 * day,
    )

    flagged = _chat(alice, "alice-flagged", "Question about chemicals", [now - 30 * day])
    conversation_flag(
        conversation=flagged, flagged_at=now - 29 * day, scores={"violence": 0.12, "weapons": 0.91}
    )
    flagged_deleted = _chat(
        alice, "alice-flagged-deleted", "Flagged then deleted", [now - 25 * day]
    )
    conversation_flag(
        conversation=flagged_deleted, flagged_at=now - 24 * day, scores={"harassment": 0.87}
    )
    conversations_delete_by_id(
        user=alice,
        external_ids=[flagged_deleted.external_id],
        deleted_at=now - 23 * day,
    )

    feedback_submit(
        user=alice,
        external_id="demo-fb-1",
        kind="thumbs_up",
        comment="Great recipe!",
        excerpt="Try a sheet-pan dinner...",
        submitted_at=now - 10 * day,
        conversation_external_id="alice-recipes",
    )
    feedback_submit(
        user=alice,
        external_id="demo-fb-2",
        kind="bug_report",
        comment="The answer cut off mid-sentence.",
        excerpt="The billing module...",
        submitted_at=now - 119 * day,
        conversation_external_id="alice-code",
    )

    # Bob: never consented; his account is on legal hold (he is not told).
    _chat(bob, "bob-homework", "Algebra homework", [now - 50 * day, now - 45 * day])
    _chat(bob, "bob-poem", "A poem for my cat", [now - 3 * day])
    legal_hold_place(user=bob, reason="Demo: preservation request REF-1001", placed_by=None)

    # Carol: a commercial account, not governed by the consumer policy.
    _chat(carol, "carol-roadmap", "Quarterly roadmap", [now - 400 * day, now - 380 * day])

    admin = User.objects.create_superuser(email="admin@example.com", password=None)
    agent = User.objects.create_user(email="agent@example.com", password=None)
    roles.staff_role_grant(user=admin, group_name=roles.PRIVACY_ADMINS)
    roles.staff_role_grant(user=agent, group_name=roles.SUPPORT_AGENTS)

    by_email = {u.email: u for u in (alice, bob, carol, admin, agent)}
    for login in DEMO_LOGINS:
        _set_password(by_email[login.email], login.password)
    return list(DEMO_LOGINS)


def has_accounts() -> bool:
    """Demo data goes only into a database without accounts."""
    return User.objects.exists()


def demo_logins_present() -> list[DemoLogin]:
    emails = set(
        User.objects.filter(email__in=[d.email for d in DEMO_LOGINS]).values_list(
            "email", flat=True
        )
    )
    return [d for d in DEMO_LOGINS if d.email in emails]
