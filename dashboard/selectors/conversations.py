"""The conversation list (keyset pages both ways, search over titles and
messages), one conversation with its clocks and messages, and what a delete
would remove and what the article keeps longer."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.selectors import consent_allowed
from dashboard.presentation import (
    Removal,
    ShownDate,
    Timeline,
    removal,
    shown_date,
    timeline,
    utc_text,
)
from dashboard.selectors.common import (
    KIND_LABELS,
    PAGE_SIZE,
    RULE_LABELS,
    id_url,
    keyset_both,
    policy_anchor_url,
)
from retention.models import (
    Conversation,
    Feedback,
    FeedbackKind,
    Message,
    MessageRole,
    Rule,
    TrainingRunConversation,
)
from retention.policy.article import quotes_for
from retention.selectors.conversations import (
    conversations_matching,
    owned_conversations,
    visible_conversations,
)
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


@dataclass(frozen=True)
class ListPage:
    rows: list[ConversationRow]
    next_cursor: str | None  # older conversations
    prev_cursor: str | None  # newer conversations
    total: int  # every conversation the filters match, on all pages


def matching_conversations(
    *, user: User, rule: str = "", kind: str = "", search: str = ""
) -> QuerySet[Conversation]:
    """The user's visible conversations the list's filters match; the list,
    its count and "delete all matching" all read this one queryset."""
    qs = visible_conversations(user_id=user.pk)
    if rule:
        qs = qs.filter(public_rule=rule)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = conversations_matching(qs, user_id=user.pk, text=search)
    return qs


def conversation_page(
    *,
    user: User,
    now: datetime,
    cursor: str | None = None,
    before: str | None = None,
    rule: str = "",
    kind: str = "",
    search: str = "",
    size: int = PAGE_SIZE,
) -> ListPage:
    """One page of the history, newest activity first, after `cursor` or
    before `before`, and how many conversations match in all. Raises BadCursor."""
    qs = matching_conversations(user=user, rule=rule, kind=kind, search=search)
    rows, next_cursor, prev_cursor = keyset_both(
        qs.only(*LIST_FIELDS), "last_activity_at", after=cursor, before=before, size=size
    )
    if before and not rows:  # the newer page emptied meanwhile: start from the top
        rows, next_cursor, prev_cursor = keyset_both(
            qs.only(*LIST_FIELDS), "last_activity_at", after=None, before=None, size=size
        )
    urls = row_urls()
    return ListPage(
        [conversation_row(c, now, urls) for c in rows], next_cursor, prev_cursor, qs.count()
    )


@dataclass(frozen=True)
class MessageRow:
    role: str
    role_label: str
    sent_iso: str
    sent_text: str  # "2 February 2026, 14:03 UTC"
    content: str


@dataclass(frozen=True)
class MessagePage:
    rows: list[MessageRow]
    next_cursor: str | None  # later messages
    prev_cursor: str | None  # earlier messages
    total: int


MESSAGE_PAGE_SIZE = 50
ROLE_LABELS = dict(MessageRole.choices)


def conversation_messages(
    *,
    conversation_id: int,
    cursor: str | None = None,
    before: str | None = None,
    size: int = MESSAGE_PAGE_SIZE,
) -> MessagePage:
    """The messages the portal holds for one conversation, oldest first, one
    keyset page at a time (the caller has checked whose conversation it is)."""
    qs = Message.objects.filter(conversation_id=conversation_id).only(
        "pk", "role", "content", "sent_at"
    )
    rows, next_cursor, prev_cursor = keyset_both(
        qs, "sent_at", after=cursor, before=before, size=size, newest_first=False
    )
    return MessagePage(
        [
            MessageRow(
                role=m.role,
                role_label=ROLE_LABELS.get(m.role, m.role),
                sent_iso=m.sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                sent_text=utc_text(m.sent_at),
                content=m.content,
            )
            for m in rows
        ],
        next_cursor,
        prev_cursor,
        qs.count(),
    )


@dataclass(frozen=True)
class Clock:
    bucket: str  # what is kept: "Content", "Classification scores", "Feedback ..."
    rule_label: str
    until: ShownDate | None
    timeline: Timeline | None
    # The same date as a removal: "due for removal since" once it has passed
    # (templates/dashboard/_removal.html), never a promise of the next run.
    removal: Removal | None = None


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
    messages: MessagePage


def conversation_detail(
    *,
    user: User,
    external_id: str,
    now: datetime,
    cursor: str | None = None,
    before: str | None = None,
) -> ConversationDetail | None:
    """Everything the conversation page shows, or None when the id is not one
    of the user's visible conversations (another user's, deleted, unknown)."""
    conversation = visible_conversations(user_id=user.pk).filter(external_id=external_id).first()
    if conversation is None:
        return None
    decision = decision_for_user(
        conversation,
        owner=user,
        consent_now=consent_allowed(user_id=user.pk, at=now),
        durations=policy_durations(),
    )
    row = conversation_row(conversation, now, row_urls())
    clocks: list[Clock] = []
    if not user.is_commercial:
        clocks.append(
            Clock(
                _("Messages (inputs and outputs)"),
                row.rule_label,
                row.retain_until,
                row.timeline,
                removal(conversation.public_retain_until, now),
            )
        )
        if conversation.flagged_at is not None:
            # The public date of the scores: a hold that keeps them longer stays unseen.
            scores_until = decision.scores_retain_until
            clocks.append(
                Clock(
                    _("Trust and safety classification scores"),
                    RULE_LABELS[Rule.FLAGGED],
                    shown_date(scores_until, now),
                    timeline(conversation.flagged_at, scores_until, now),
                    removal(scores_until, now),
                )
            )
        for fb in Feedback.objects.filter(user=user, conversation=conversation).order_by(
            "submitted_at", "pk"
        ):
            clocks.append(
                Clock(
                    _("Your feedback (%(kind)s) of %(date)s")
                    % {
                        "kind": str(dict(FeedbackKind.choices).get(fb.kind, fb.kind)).lower(),
                        "date": shown_date(fb.submitted_at, now).text,
                    },
                    _("Feedback data"),
                    shown_date(fb.public_retain_until, now),
                    timeline(fb.submitted_at, fb.public_retain_until, now),
                    removal(fb.public_retain_until, now),
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
        messages=conversation_messages(
            conversation_id=conversation.pk, cursor=cursor, before=before
        ),
    )


@dataclass(frozen=True)
class KeptLonger:
    """Something of the conversations a delete does not remove now, in words,
    with the article's own sentences that say so."""

    text: str
    quotes: list[QuoteLink]


@dataclass(frozen=True)
class DeletionSummary:
    count: int  # conversations that would leave the history now
    titles: list[str]  # the first TITLES_SHOWN of them, newest activity first
    more: int  # how many are not named
    goes_text: str
    goes_quotes: list[QuoteLink]
    kept: list[KeptLonger]


TITLES_SHOWN = 10


def _quote_links(topic: str, durations, pick: slice = slice(None)) -> list[QuoteLink]:
    return [
        QuoteLink(q.text, policy_anchor_url(q.section)) for q in quotes_for(topic, durations)[pick]
    ]


def deletion_summary(*, user: User, conversations: QuerySet[Conversation]) -> DeletionSummary:
    """What deleting `conversations` (the user's) would remove from the history
    now, and what the article keeps longer: content and scores of flagged
    ones, the user's feedback on them, their use by training runs already
    started. A fixed number of queries for any number of conversations."""
    targets = conversations.filter(user=user, deleted_at__isnull=True)
    counts = targets.aggregate(
        n=Count("pk"), flagged=Count("pk", filter=Q(flagged_at__isnull=False))
    )
    n = counts["n"]
    titles = [
        title or _("Untitled")
        for title in targets.order_by("-last_activity_at", "-pk").values_list("title", flat=True)[
            :TITLES_SHOWN
        ]
    ]
    if user.is_commercial:
        return DeletionSummary(
            n,
            titles,
            max(n - len(titles), 0),
            _(
                "They leave your history at once. What happens to them next is governed by your "
                "organisation's commercial terms."
            ),
            [],
            [],
        )
    durations = policy_durations()
    kept: list[KeptLonger] = []
    if counts["flagged"]:
        kept.append(
            KeptLonger(
                ngettext(
                    "%(n)d of them was flagged by our trust and safety classifiers: its content "
                    "is kept up to %(content)d years from the flag and its classification "
                    "scores up to %(scores)d years, even after you delete it.",
                    "%(n)d of them were flagged by our trust and safety classifiers: their "
                    "content is kept up to %(content)d years from the flag and their "
                    "classification scores up to %(scores)d years, even after you delete them.",
                    counts["flagged"],
                )
                % {
                    "n": counts["flagged"],
                    "content": durations.flagged_content_years,
                    "scores": durations.flagged_scores_years,
                },
                _quote_links("flagged", durations),
            )
        )
    feedback = Feedback.objects.filter(user=user, conversation__in=targets).count()
    if feedback:
        kept.append(
            KeptLonger(
                ngettext(
                    "You sent %(n)d piece of feedback about them: feedback is its own record and "
                    "is kept for %(years)d years from when you sent it.",
                    "You sent %(n)d pieces of feedback about them: feedback is its own record "
                    "and is kept for %(years)d years from when you sent it.",
                    feedback,
                )
                % {"n": feedback, "years": durations.feedback_years},
                _quote_links("feedback", durations),
            )
        )
    used = (
        TrainingRunConversation.objects.filter(user=user, conversation__in=targets)
        .values("conversation_id")
        .distinct()
        .count()
    )
    if used:
        kept.append(
            KeptLonger(
                ngettext(
                    "%(n)d of them was already used by a model training run: it stays in that "
                    "run and in the models already trained.",
                    "%(n)d of them were already used by model training runs: they stay in those "
                    "runs and in the models already trained.",
                    used,
                )
                % {"n": used},
                _quote_links("training_consent_off", durations, slice(-1, None)),
            )
        )
    return DeletionSummary(
        n,
        titles,
        max(n - len(titles), 0),
        ngettext(
            "It leaves your history at once. Its content is deleted from our systems within "
            "%(days)d days, unless the policy keeps it longer (see below) or retention is "
            "required by law.",
            "They leave your history at once. Their content is deleted from our systems within "
            "%(days)d days, unless the policy keeps it longer (see below) or retention is "
            "required by law.",
            n,
        )
        % {"days": durations.deleted_days},
        _quote_links("deleted", durations, slice(-2, None)),
        kept,
    )


def owned_for_delete(*, user: User, external_ids: Iterable[str]) -> QuerySet[Conversation] | None:
    """The user's conversations of these ids (deleted ones included), or None
    when one of them is not the user's: all or nothing, like the delete."""
    wanted = set(external_ids)
    found = owned_conversations(user_id=user.pk, external_ids=wanted)
    return found if found.count() == len(wanted) else None
