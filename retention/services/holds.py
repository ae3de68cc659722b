"""Legal holds: while one is active nothing it covers is purged; on release the
ordinary rules apply again, and anything already past its date goes at the
next purge run."""

from django.db import transaction
from django.utils import timezone

from accounts.data_version import data_version_bump
from accounts.models import User
from retention.models import Conversation, Feedback, Flag, LegalHold
from retention.services.deadlines import (
    refresh_account_deadlines,
    refresh_conversation_deadlines,
    refresh_feedback_deadlines,
    refresh_flag_deadlines,
)


class HoldError(ValueError):
    """A hold request that cannot be applied (missing reason, already released)."""


def _refresh_covered(hold: LegalHold) -> None:
    """The deadlines of what the hold covers (retention.selectors.exemptions)."""
    if hold.scope == LegalHold.Scope.ACCOUNT:
        refresh_account_deadlines(hold.user_id)
        return
    about = {"user_id": hold.user_id, "conversation_external_id": hold.conversation_external_id}
    refresh_conversation_deadlines(
        Conversation.objects.filter(user_id=hold.user_id, external_id=hold.conversation_external_id)
    )
    refresh_flag_deadlines(Flag.objects.filter(**about))
    refresh_feedback_deadlines(Feedback.objects.filter(**about))


@transaction.atomic
def legal_hold_place(
    *, user: User, reason: str, placed_by: User | None, conversation: Conversation | None = None
) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("A legal hold needs a reason.")
    if conversation is not None and conversation.user_id != user.pk:
        raise HoldError("That conversation belongs to another account.")
    hold = LegalHold.objects.create(
        user=user,
        scope=LegalHold.Scope.CONVERSATION if conversation else LegalHold.Scope.ACCOUNT,
        conversation=conversation,
        conversation_external_id=conversation.external_id if conversation else "",
        reason=reason,
        placed_by=placed_by,
    )
    _refresh_covered(hold)
    data_version_bump(user_ids=[hold.user_id])
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, released_by: User | None) -> LegalHold:
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise HoldError("This hold was already released.")
    hold.released_at = timezone.now()
    hold.released_by = released_by
    hold.save(update_fields=["released_at", "released_by"])
    _refresh_covered(hold)
    data_version_bump(user_ids=[hold.user_id])
    return hold
