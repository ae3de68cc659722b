"""Reads for deleting an account: what it still owns and until when, and
which accounts asked to be deleted and have nothing left (the purge erases
those records).

Dates are the ones the owner is shown (the public columns: a legal hold is
never revealed); a constant number of aggregate queries, whatever the size
of the history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from accounts.models import User
from retention.models import (
    Conversation,
    Feedback,
    Flag,
    Message,
    Rule,
    TrainingRunConversation,
)
from retention.policy.dates import add_years
from retention.selectors.exemptions import active_holds
from retention.selectors.settings import policy_durations


@dataclass(frozen=True)
class AccountHoldings:
    """What an account still owns, as counts and the latest date of each kind."""

    conversations: int  # in the history (not deleted)
    messages: int  # of those
    flagged_in_history: int  # of those, flagged
    deleted_awaiting: int  # deleted, not flagged, content not purged yet
    deleted_until: datetime | None  # the last of those goes by then
    flagged: int  # flagged conversations whose content is kept (history or deleted)
    flagged_until: datetime | None
    scores: int  # classification score sets
    scores_until: datetime | None
    feedback: int
    feedback_until: datetime | None
    training_uses: int  # conversations used by training runs already started
    deleted_days: int  # the article's "within N days" in force
    feedback_years: int
    flagged_content_years: int
    flagged_scores_years: int

    @property
    def unflagged_in_history(self) -> int:
        return self.conversations - self.flagged_in_history


def account_holdings(*, user: User) -> AccountHoldings:
    durations = policy_durations()
    flagged = Q(public_rule=Rule.FLAGGED)
    history = Q(deleted_at__isnull=True)
    rows = Conversation.objects.filter(user_id=user.pk).aggregate(
        conversations=Count("pk", filter=history),
        flagged_in_history=Count("pk", filter=history & flagged),
        deleted_awaiting=Count("pk", filter=~history & ~flagged),
        deleted_until=Max("public_retain_until", filter=~history & ~flagged),
        flagged=Count("pk", filter=flagged),
        flagged_until=Max("public_retain_until", filter=flagged),
    )
    messages = Message.objects.filter(
        conversation__user_id=user.pk, conversation__deleted_at__isnull=True
    ).count()
    flags = Flag.objects.filter(user_id=user.pk).aggregate(n=Count("pk"), latest=Max("flagged_at"))
    feedback = Feedback.objects.filter(user_id=user.pk).aggregate(
        n=Count("pk"), until=Max("public_retain_until")
    )
    training_uses = (
        TrainingRunConversation.objects.filter(user_id=user.pk)
        .values("conversation_external_id")
        .distinct()
        .count()
    )
    return AccountHoldings(
        messages=messages,
        scores=flags["n"],
        scores_until=(
            add_years(flags["latest"], durations.flagged_scores_years) if flags["latest"] else None
        ),
        feedback=feedback["n"],
        feedback_until=feedback["until"],
        training_uses=training_uses,
        deleted_days=durations.deleted_days,
        feedback_years=durations.feedback_years,
        flagged_content_years=durations.flagged_content_years,
        flagged_scores_years=durations.flagged_scores_years,
        **rows,
    )


def accounts_erasable() -> QuerySet[User]:
    """Accounts whose owner asked to delete them, not yet erased, of which
    nothing is left: no conversation (deleted ones stay until purged), no
    classification scores, no feedback, and no active legal hold on the
    account (a hold keeps the account as it keeps its data)."""
    mine = {"user_id": OuterRef("pk")}
    return (
        User.objects.filter(erasure_requested_at__isnull=False, erased_at__isnull=True)
        .exclude(Exists(Conversation.objects.filter(**mine)))
        .exclude(Exists(Flag.objects.filter(**mine)))
        .exclude(Exists(Feedback.objects.filter(**mine)))
        .exclude(Exists(active_holds().filter(**mine)))
    )


def account_last_date(holdings: AccountHoldings) -> datetime | None:
    """The last date anything of the account is kept to (the account record
    is erased by the first purge after it); None when nothing is kept."""
    dates = [
        d
        for d in (
            holdings.deleted_until,
            holdings.flagged_until,
            holdings.scores_until,
            holdings.feedback_until,
        )
        if d is not None
    ]
    return max(dates) if dates else None
