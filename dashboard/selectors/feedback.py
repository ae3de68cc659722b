"""The user's feedback submissions with their own retain-until."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from dashboard.presentation import (
    ShownDate,
    shown_date,
)
from dashboard.selectors.common import PAGE_SIZE, Page, keyset
from retention.models import (
    Feedback,
    FeedbackKind,
)


@dataclass(frozen=True)
class FeedbackRow:
    kind_label: str
    comment: str
    excerpt: str
    submitted_at: ShownDate
    retain_until: ShownDate | None


def feedback_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    qs = Feedback.objects.filter(user=user).only(
        "pk", "kind", "comment", "excerpt", "submitted_at", "public_retain_until"
    )
    rows, next_cursor = keyset(qs, "submitted_at", cursor, size)
    labels = dict(FeedbackKind.choices)
    return Page(
        [
            FeedbackRow(
                labels.get(f.kind, f.kind),
                f.comment,
                f.excerpt,
                shown_date(f.submitted_at, now),
                None if user.is_commercial else shown_date(f.public_retain_until, now),
            )
            for f in rows
        ],
        next_cursor,
    )
