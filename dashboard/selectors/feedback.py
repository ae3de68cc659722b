"""The user's feedback submissions with their own retain-until."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from dashboard.presentation import Removal, ShownDate, removal, shown_date
from dashboard.selectors.common import PAGE_SIZE, Page, feedback_anchor, keyset, policy_anchor_url
from dashboard.selectors.conversations import QuoteLink
from retention.models import Feedback, FeedbackKind
from retention.policy.article import key_quotes_for
from retention.selectors.settings import policy_durations


@dataclass(frozen=True)
class FeedbackRow:
    anchor: str  # the row's fragment id (the overview's next removal links to it)
    kind_label: str
    comment: str
    excerpt: str
    submitted_at: ShownDate
    removal: Removal | None  # None: commercial, not governed by these rules


@dataclass(frozen=True)
class FeedbackPage(Page):
    years: int = 5  # the feedback_years setting in force
    quotes: tuple[QuoteLink, ...] = ()  # the article's sentence on feedback, linked


def feedback_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> FeedbackPage:
    qs = Feedback.objects.filter(user=user).only(
        "pk", "external_id", "kind", "comment", "excerpt", "submitted_at", "public_retain_until"
    )
    rows, next_cursor = keyset(qs, "submitted_at", cursor, size)
    labels = dict(FeedbackKind.choices)
    durations = policy_durations()
    return FeedbackPage(
        [
            FeedbackRow(
                feedback_anchor(f.external_id),
                labels.get(f.kind, f.kind),
                f.comment,
                f.excerpt,
                shown_date(f.submitted_at, now),
                None if user.is_commercial else removal(f.public_retain_until, now),
            )
            for f in rows
        ],
        next_cursor,
        years=durations.feedback_years,
        quotes=tuple(
            QuoteLink(q.text, policy_anchor_url(q.section))
            for q in key_quotes_for("feedback", durations)
        ),
    )
