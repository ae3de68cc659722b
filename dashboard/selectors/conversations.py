"""The conversation list (keyset pages) and one conversation with its clocks."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from accounts.selectors import consent_allowed
from dashboard.presentation import (
    ShownDate,
    Timeline,
    shown_date,
    timeline,
)
from dashboard.selectors.common import (
    KIND_LABELS,
    PAGE_SIZE,
    RULE_LABELS,
    Page,
    id_url,
    keyset,
    policy_anchor_url,
)
from retention.models import (
    Conversation,
    Feedback,
    FeedbackKind,
    Rule,
    TrainingRunConversation,
)
from retention.selectors.conversations import visible_conversations
from retention.selectors.decisions import decision_for_user
from retention.selectors.settings import policy_durations


@dataclass(frozen=True)
class ConversationRow:
    id: str
    url: str  # the conversation's page
    delete_url: str  # where its Delete button posts
    title: str
    kind: str
    kind_label: str
    last_activity: ShownDate
    rule: str
    rule_label: str
    retain_until: ShownDate | None  # None: commercial, not governed by these rules
    timeline: Timeline | None


LIST_FIELDS = (
    "pk",
    "external_id",
    "title",
    "kind",
    "last_activity_at",
    "public_rule",
    "public_retain_until",
)


@dataclass(frozen=True)
class RowUrls:
    """The two links of a row, each route reversed once per page (see id_url)."""

    page: Callable[[str], str]
    delete: Callable[[str], str]


def row_urls() -> RowUrls:
    return RowUrls(id_url("dashboard:conversation"), id_url("dashboard:conversation_delete"))


def conversation_row(conversation: Conversation, now: datetime, urls: RowUrls) -> ConversationRow:
    return ConversationRow(
        id=conversation.external_id,
        url=urls.page(conversation.external_id),
        delete_url=urls.delete(conversation.external_id),
        title=conversation.title or "Untitled",
        kind=conversation.kind,
        kind_label=KIND_LABELS.get(conversation.kind, conversation.kind),
        last_activity=shown_date(conversation.last_activity_at, now),
        rule=conversation.public_rule,
        rule_label=RULE_LABELS.get(conversation.public_rule, conversation.public_rule),
        retain_until=shown_date(conversation.public_retain_until, now),
        timeline=timeline(conversation.last_activity_at, conversation.public_retain_until, now),
    )


def conversation_page(
    *,
    user: User,
    now: datetime,
    cursor: str | None = None,
    rule: str = "",
    kind: str = "",
    search: str = "",
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the history, newest activity first. Raises BadCursor."""
    qs = visible_conversations(user_id=user.pk).only(*LIST_FIELDS)
    if rule:
        qs = qs.filter(public_rule=rule)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(title__icontains=search)
    rows, next_cursor = keyset(qs, "last_activity_at", cursor, size)
    urls = row_urls()
    return Page([conversation_row(c, now, urls) for c in rows], next_cursor)


@dataclass(frozen=True)
class Clock:
    bucket: str  # what is kept: "Content", "Classification scores", "Feedback ..."
    rule_label: str
    until: ShownDate | None
    timeline: Timeline | None


@dataclass(frozen=True)
class QuoteLink:
    text: str
    url: str


@dataclass(frozen=True)
class RunUse:
    name: str
    started_at: ShownDate


@dataclass(frozen=True)
class ConversationDetail:
    row: ConversationRow
    is_commercial: bool
    flagged: bool
    clocks: list[Clock]
    quotes: list[QuoteLink]
    runs: list[RunUse]
    future_training: bool
    shared_for_training: bool


def conversation_detail(
    *, user: User, external_id: str, now: datetime
) -> ConversationDetail | None:
    """Everything the conversation page shows, or None when the id is not one
    of the user's visible conversations (another user's, deleted, unknown)."""
    conversation = visible_conversations(user_id=user.pk).filter(external_id=external_id).first()
    if conversation is None:
        return None
    decision = decision_for_user(
        conversation,
        is_commercial=user.is_commercial,
        consent_now=consent_allowed(user_id=user.pk, at=now),
        durations=policy_durations(),
        auto_delete_months=user.auto_delete_months,
    )
    row = conversation_row(conversation, now, row_urls())
    clocks: list[Clock] = []
    if not user.is_commercial:
        clocks.append(
            Clock("Messages (inputs and outputs)", row.rule_label, row.retain_until, row.timeline)
        )
        if conversation.flagged_at is not None:
            # The public date of the scores: a hold that keeps them longer stays unseen.
            scores_until = decision.scores_retain_until
            clocks.append(
                Clock(
                    "Trust and safety classification scores",
                    RULE_LABELS[Rule.FLAGGED],
                    shown_date(scores_until, now),
                    timeline(conversation.flagged_at, scores_until, now),
                )
            )
        for fb in Feedback.objects.filter(user=user, conversation=conversation).order_by(
            "submitted_at", "pk"
        ):
            clocks.append(
                Clock(
                    f"Your feedback ({dict(FeedbackKind.choices).get(fb.kind, fb.kind).lower()}) "
                    f"of {shown_date(fb.submitted_at, now).text}",
                    "Feedback data",
                    shown_date(fb.public_retain_until, now),
                    timeline(fb.submitted_at, fb.public_retain_until, now),
                )
            )
    runs = [
        RunUse(use.run.name, shown_date(use.run.started_at, now))
        for use in TrainingRunConversation.objects.filter(
            user=user, conversation_external_id=conversation.external_id
        )
        .select_related("run")
        .order_by("run__started_at", "run__pk")
    ]
    return ConversationDetail(
        row=row,
        is_commercial=user.is_commercial,
        flagged=conversation.flagged_at is not None,
        clocks=clocks,
        quotes=[QuoteLink(q.text, policy_anchor_url(q.section)) for q in decision.explanation],
        runs=runs,
        future_training=decision.future_training,
        shared_for_training=conversation.shared_for_training,
    )
