"""People in each role, and seeded data with recognisable secret strings, for
the support, admin and security tests."""

from datetime import timedelta

from django.utils import timezone

from accounts.roles import PRIVACY_ADMINS, SUPPORT_AGENTS, staff_role_grant
from retention.models import Conversation, DeletionReceipt, Rule
from retention.services.conversations import feedback_submit, message_add
from tests.factories import StaffFactory, UserFactory

SECRET_CONTENT = "SECRET-CONTENT-42"
SECRET_TITLE = "SECRET-TITLE-42"
SECRET_COMMENT = "SECRET-COMMENT-42"
SECRET_EXCERPT = "SECRET-EXCERPT-42"


def make_privacy_admin(**kwargs):
    user = StaffFactory(**kwargs)
    staff_role_grant(user=user, group_name=PRIVACY_ADMINS)
    return user


def make_support_agent(**kwargs):
    user = UserFactory(external_id=None, **kwargs)
    staff_role_grant(user=user, group_name=SUPPORT_AGENTS)
    return user


def seed_account(user, *, conversations: int = 1, prefix: str = "conv"):
    """Conversations with secret titles and content, a feedback item with a
    secret comment and excerpt, and one deletion receipt."""
    start = timezone.now() - timedelta(days=3)
    for n in range(conversations):
        message_add(
            user=user,
            conversation_external_id=f"{prefix}-{user.pk}-{n}",
            kind="chat",
            title=f"{SECRET_TITLE} {n}",
            message_external_id=f"msg-{prefix}-{user.pk}-{n}",
            role="user",
            content=f"{SECRET_CONTENT} {n}",
            sent_at=start + timedelta(minutes=n),
        )
    feedback_submit(
        user=user,
        external_id=f"fb-{prefix}-{user.pk}",
        kind="bug_report",
        comment=SECRET_COMMENT,
        excerpt=SECRET_EXCERPT,
        submitted_at=start,
        conversation_external_id=f"{prefix}-{user.pk}-0",
    )
    return Conversation.objects.filter(user=user)


def seed_receipt(
    user, *, sequence: int, conversation_external_id: str, purged_at=None, retain_until=None
):
    now = timezone.now()
    return DeletionReceipt.objects.create(
        sequence=sequence,
        user=user,
        conversation_external_id=conversation_external_id,
        kind="chat",
        rule=Rule.NOT_SHARED,
        retain_until=retain_until or now - timedelta(hours=2),
        purged_at=purged_at or now - timedelta(hours=1),
        messages_removed=3,
        previous_hash=f"{sequence - 1:064d}",
        receipt_hash=f"{sequence:064d}",
    )
