"""Reads behind the dashboard pages and the /api/me/ endpoints.

Every function here answers for one signed-in user and issues a fixed number
of queries whatever the size of their history: lists are keyset-paginated on
(moment, id) descending, counts come from one aggregate. A legal hold is never
visible here: only the public_* columns and the masked decision are read.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse

from accounts.models import ConsentChange, ConsentSource, User
from accounts.selectors import consent_allowed, consent_current
from dashboard.presentation import (
    ShownDate,
    Timeline,
    cursor_decode,
    cursor_encode,
    shown_date,
    timeline,
)
from retention.models import (
    Conversation,
    ConversationKind,
    DeletionReceipt,
    Feedback,
    FeedbackKind,
    PolicyDocument,
    Rule,
    TrainingRunConversation,
)
from retention.policy import ConversationFacts, Durations, add_days, add_years, decide_conversation
from retention.selectors.settings import policy_durations
from support.models import StaffRole
from support.selectors import access_log_for_user

PAGE_SIZE = 25
RECENT_LIMIT = 50  # rows of the short lists on the overview

# The rules a user can see (a hold is masked), in the order the overview lists them.
USER_RULES = (Rule.FLAGGED, Rule.SHARED_TRAINING, Rule.NOT_SHARED, Rule.COMMERCIAL)
RULE_LABELS = dict(Rule.choices)
KIND_LABELS = dict(ConversationKind.choices)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def keyset(
    qs: QuerySet, moment_field: str, cursor: str | None, size: int
) -> tuple[list, str | None]:
    """One page of `qs` ordered by (moment_field, id) descending, after `cursor`.
    The first condition is a range the index can seek to; OFFSET is never used,
    so page 200 costs what page 1 costs. Raises BadCursor on a bad cursor."""
    if cursor:
        moment, pk = cursor_decode(cursor)
        qs = qs.filter(**{f"{moment_field}__lte": moment}).filter(
            Q(**{f"{moment_field}__lt": moment}) | Q(pk__lt=pk)
        )
    rows = list(qs.order_by(f"-{moment_field}", "-pk")[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = cursor_encode(getattr(last, moment_field), last.pk)
    return rows, next_cursor


def policy_anchor_url(anchor: str) -> str:
    return f"{reverse('dashboard:policy')}#{anchor}"


# ---------------------------------------------------------------- overview


@dataclass(frozen=True)
class ConsentState:
    allowed: bool
    since: ShownDate | None  # None: never chosen (not allowed)


@dataclass(frozen=True)
class StaffAccess:
    role: str
    at: ShownDate
    reason: str
    data_kind: str


@dataclass(frozen=True)
class Overview:
    is_commercial: bool
    consent: ConsentState
    rule_counts: list[tuple[str, str, int]]  # (code, label, count)
    visible_total: int
    deleted_pending: int
    next_purge: ShownDate | None
    next_purge_due: bool
    staff_accesses: list[StaffAccess] = field(default_factory=list)


def consent_state(*, user: User, now: datetime) -> ConsentState:
    entry = consent_current(user_id=user.pk, at=now)
    if entry is None:
        return ConsentState(False, None)
    return ConsentState(entry.allowed, shown_date(entry.effective_at, now))


def overview(*, user: User, now: datetime) -> Overview:
    """Consent, counts per rule (one aggregate), the next purge of any of the
    user's data, and the latest staff accesses to the account."""
    visible = Q(deleted_at__isnull=True)
    counts = Conversation.objects.filter(user=user).aggregate(
        **{rule.value: Count("pk", filter=visible & Q(public_rule=rule)) for rule in USER_RULES},
        deleted=Count("pk", filter=Q(deleted_at__isnull=False)),
        next_conversation=Min("public_retain_until"),
    )
    next_feedback = Feedback.objects.filter(user=user).aggregate(m=Min("public_retain_until"))["m"]
    candidates = [m for m in (counts["next_conversation"], next_feedback) if m is not None]
    next_purge = min(candidates) if candidates and not user.is_commercial else None
    rule_counts = [
        (rule.value, RULE_LABELS[rule], counts[rule.value])
        for rule in USER_RULES
        if rule != Rule.COMMERCIAL or user.is_commercial
    ]
    return Overview(
        is_commercial=user.is_commercial,
        consent=consent_state(user=user, now=now),
        rule_counts=rule_counts,
        visible_total=sum(counts[rule.value] for rule in USER_RULES),
        deleted_pending=counts["deleted"],
        next_purge=shown_date(next_purge, now),
        next_purge_due=next_purge is not None and next_purge <= now,
        staff_accesses=staff_accesses(user=user, now=now),
    )


def staff_accesses(*, user: User, now: datetime, limit: int = RECENT_LIMIT) -> list[StaffAccess]:
    """Granted staff accesses to the account (support.selectors owns the read),
    with dates shown the dashboard's way. Never the staff member's identity."""
    return [
        StaffAccess(
            role=access.role_label,
            at=shown_date(access.at, now),
            reason=access.reason,
            data_kind=access.data_kind_label,
        )
        for access in access_log_for_user(user, limit=limit)
        if access.role != StaffRole.END_USER
    ]


# ---------------------------------------------------------- conversation list


@dataclass(frozen=True)
class ConversationRow:
    id: str
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


def visible_conversations(*, user: User) -> QuerySet[Conversation]:
    """The user's history: deleted conversations leave it at once."""
    return Conversation.objects.filter(user=user, deleted_at__isnull=True)


def conversation_row(conversation: Conversation, now: datetime) -> ConversationRow:
    return ConversationRow(
        id=conversation.external_id,
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
    qs = visible_conversations(user=user).only(*LIST_FIELDS)
    if rule:
        qs = qs.filter(public_rule=rule)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(title__icontains=search)
    rows, next_cursor = keyset(qs, "last_activity_at", cursor, size)
    return Page([conversation_row(c, now) for c in rows], next_cursor)


# ---------------------------------------------------------- one conversation


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


def _decision_for_user(
    conversation: Conversation, *, user: User, consent_now: bool, durations: Durations
):
    """The decision the user is shown: on_hold is always False here, because a
    hold must never be revealed (the stored public_* columns mask it too)."""
    facts = ConversationFacts(
        last_activity_at=conversation.last_activity_at,
        shared_for_training=conversation.shared_for_training,
        is_commercial=user.is_commercial,
        deleted_at=conversation.deleted_at,
        flagged_at=conversation.flagged_at,
        on_hold=False,
        consent_now=consent_now,
    )
    return decide_conversation(facts, durations).for_user


def conversation_detail(
    *, user: User, external_id: str, now: datetime
) -> ConversationDetail | None:
    """Everything the conversation page shows, or None when the id is not one
    of the user's visible conversations (another user's, deleted, unknown)."""
    conversation = visible_conversations(user=user).filter(external_id=external_id).first()
    if conversation is None:
        return None
    durations = policy_durations()
    decision = _decision_for_user(
        conversation,
        user=user,
        consent_now=consent_allowed(user_id=user.pk, at=now),
        durations=durations,
    )
    row = conversation_row(conversation, now)
    clocks: list[Clock] = []
    if not user.is_commercial:
        clocks.append(
            Clock("Messages (inputs and outputs)", row.rule_label, row.retain_until, row.timeline)
        )
        if conversation.flagged_at is not None:
            # The public date of the scores: a hold that keeps them longer stays unseen.
            scores_until = add_years(conversation.flagged_at, durations.flagged_scores_years)
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


# ------------------------------------------------------------------ consent


@dataclass(frozen=True)
class ConsentPreview:
    allowed: bool  # the value the user is about to choose
    new_rule: str
    new_rule_label: str
    new_retention: str  # "up to 5 years after their last message"
    example_until: ShownDate
    stay_in_runs: int  # conversations used by runs already started: they stay there
    shared_stored: int  # stored shared conversations future runs stop (or resume) using
    not_shared_stored: int


def consent_preview(*, user: User, allowed: bool, now: datetime) -> ConsentPreview:
    """What changes if the consent becomes `allowed`, with real counts (two
    queries). Flipping consent rewrites no conversation: only new or resumed
    activity takes the new rule."""
    d = policy_durations()
    if allowed:
        new_rule = Rule.SHARED_TRAINING
        retention = f"up to {d.shared_training_years} years after their last message"
        example = add_years(now, d.shared_training_years)
    else:
        new_rule = Rule.NOT_SHARED
        retention = f"up to {d.not_shared_days} days after their last message"
        example = add_days(now, d.not_shared_days)
    counts = visible_conversations(user=user).aggregate(
        shared=Count("pk", filter=Q(shared_for_training=True)),
        not_shared=Count("pk", filter=Q(shared_for_training=False)),
    )
    stay = (
        TrainingRunConversation.objects.filter(user=user, run__started_at__lte=now)
        .values("conversation_external_id")
        .distinct()
        .count()
    )
    return ConsentPreview(
        allowed=allowed,
        new_rule=new_rule.value,
        new_rule_label=RULE_LABELS[new_rule],
        new_retention=retention,
        example_until=shown_date(example, now),
        stay_in_runs=stay,
        shared_stored=counts["shared"],
        not_shared_stored=counts["not_shared"],
    )


@dataclass(frozen=True)
class ConsentHistoryRow:
    allowed: bool
    effective_at: ShownDate
    source: str
    article_version: str


def consent_history(*, user: User, now: datetime, limit: int = 200) -> list[ConsentHistoryRow]:
    source_labels = dict(ConsentSource.choices)
    return [
        ConsentHistoryRow(
            c.allowed,
            shown_date(c.effective_at, now),
            source_labels.get(c.source, c.source),
            c.article_version,
        )
        for c in ConsentChange.objects.filter(user=user).order_by("-effective_at", "-id")[:limit]
    ]


# ------------------------------------------------------------ deleted, receipts


@dataclass(frozen=True)
class DeletedRow:
    kind_label: str
    deleted_at: ShownDate
    purge_by: ShownDate | None  # None: commercial, not governed by these rules


@dataclass(frozen=True)
class ReceiptRow:
    kind_label: str
    deleted_at: ShownDate | None  # None: removed at its date, not deleted by the user
    purged_at: ShownDate


def deleted_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Deleted conversations awaiting purge: never their titles or content."""
    qs = Conversation.objects.filter(user=user, deleted_at__isnull=False).only(
        "pk", "kind", "deleted_at", "public_retain_until"
    )
    rows, next_cursor = keyset(qs, "deleted_at", cursor, size)
    return Page(
        [
            DeletedRow(
                KIND_LABELS.get(c.kind, c.kind),
                shown_date(c.deleted_at, now),
                None if user.is_commercial else shown_date(c.public_retain_until, now),
            )
            for c in rows
        ],
        next_cursor,
    )


def receipt_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    qs = DeletionReceipt.objects.filter(user=user).only("pk", "kind", "deleted_at", "purged_at")
    rows, next_cursor = keyset(qs, "purged_at", cursor, size)
    return Page(
        [
            ReceiptRow(
                KIND_LABELS.get(r.kind, r.kind),
                shown_date(r.deleted_at, now),
                shown_date(r.purged_at, now),
            )
            for r in rows
        ],
        next_cursor,
    )


# ------------------------------------------------------------------ feedback


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


# ------------------------------------------------------------------ policy


def current_policy() -> PolicyDocument | None:
    return PolicyDocument.objects.filter(is_current=True).first()


# ------------------------------------------------------------------ JSON API


def api_conversation_page(
    *, user: User, now: datetime, cursor: str | None = None
) -> dict[str, Any]:
    """The /api/me/conversations shape: a page of the history with the runs,
    the future-training answer and the quoted explanation of each row, in a
    fixed number of queries. Raises BadCursor."""
    from dashboard.presentation import iso_utc

    qs = visible_conversations(user=user)
    rows, next_cursor = keyset(qs, "last_activity_at", cursor, PAGE_SIZE)
    runs_by_conversation: dict[int, list[str]] = defaultdict(list)
    for conversation_id, name in (
        TrainingRunConversation.objects.filter(conversation_id__in=[c.pk for c in rows])
        .order_by("run__started_at", "run__pk")
        .values_list("conversation_id", "run__name")
    ):
        runs_by_conversation[conversation_id].append(name)
    consent_now = consent_allowed(user_id=user.pk, at=now)
    durations = policy_durations()
    items = []
    for c in rows:
        decision = _decision_for_user(c, user=user, consent_now=consent_now, durations=durations)
        items.append(
            {
                "id": c.external_id,
                "title": c.title,
                "kind": c.kind,
                "last_activity_at": iso_utc(c.last_activity_at),
                "rule": c.public_rule,
                "retain_until": iso_utc(c.public_retain_until),
                "shared_for_training": c.shared_for_training,
                "training_runs": runs_by_conversation[c.pk],
                "future_training": decision.future_training,
                "flagged": c.flagged_at is not None,
                "explanation": [
                    {"section": q.section, "quote": q.text} for q in decision.explanation
                ],
            }
        )
    return {"conversations": items, "next": next_cursor}


def api_deleted(*, user: User) -> Iterable[dict[str, Any]]:
    """Deleted conversations awaiting purge, then purge receipts: ids and
    times only, never titles or content."""
    from dashboard.presentation import iso_utc

    pending = (
        Conversation.objects.filter(user=user, deleted_at__isnull=False)
        .order_by("-deleted_at", "-pk")
        .values_list("external_id", "deleted_at", "public_retain_until")
    )
    for external_id, deleted_at, retain_until in pending.iterator(chunk_size=2000):
        yield {
            "id": external_id,
            "deleted_at": iso_utc(deleted_at),
            "retain_until": None if user.is_commercial else iso_utc(retain_until),
            "purged_at": None,
        }
    receipts = (
        DeletionReceipt.objects.filter(user=user)
        .order_by("-purged_at", "-pk")
        .values_list("conversation_external_id", "deleted_at", "retain_until", "purged_at")
    )
    for external_id, deleted_at, retain_until, purged_at in receipts.iterator(chunk_size=2000):
        yield {
            "id": external_id,
            "deleted_at": iso_utc(deleted_at),
            "retain_until": iso_utc(retain_until),
            "purged_at": iso_utc(purged_at),
        }
