"""A purge backlog whose right outcome is known in advance, and the check that
a purge state matches it.

`seed_backlog(rounds=N, ...)` stores conversations (with messages),
classification scores and feedback for N purge rounds: round r runs at
`backlog.cutoffs[r]`, and what becomes due in that round is exactly what is
due in (cutoffs[r-1], cutoffs[r]]. Beside it lie items that must never go (an
account under legal hold, a held conversation, a commercial account), scores
kept years after their content, and items not due for years. One seeded
dataset thus serves many rounds of a fault test, each purging one slice.

`assert_consistent` reads the database in one REPEATABLE READ snapshot (so it
may run while a purge is committing batches) and checks it against the facts:
every conversation is either whole or purged with a receipt, never half;
nothing is gone before its date; receipts equal what is gone; the chain
verifies.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.services import consent_record
from retention.models import (
    Conversation,
    DeletionReceipt,
    Feedback,
    FeedbackKind,
    Flag,
    Message,
    Rule,
)
from retention.policy import add_years
from retention.purge import purge_due, verify_receipt_chain
from retention.services.deadlines import (
    refresh_conversation_deadlines,
    refresh_feedback_deadlines,
    refresh_flag_deadlines,
)
from retention.services.holds import legal_hold_place
from tests.factories import CommercialUserFactory, UserFactory

ROUND = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Expected:
    due_at: datetime | None  # None: never purged under these rules (held, commercial)
    messages: int = 0


@dataclass
class Backlog:
    cutoffs: list[datetime]
    conversations: dict[str, Expected] = field(default_factory=dict)
    scores: dict[str, Expected] = field(default_factory=dict)  # by conversation external id
    feedback: dict[str, Expected] = field(default_factory=dict)

    def due_in_round(self, r: int) -> int:
        """Conversations that become due at round r's cutoff."""
        after = self.cutoffs[r - 1] if r else self.cutoffs[0] - ROUND
        return sum(
            1
            for item in self.conversations.values()
            if item.due_at is not None and after < item.due_at <= self.cutoffs[r]
        )


@dataclass
class _Rows:
    conversations: list[Conversation] = field(default_factory=list)
    messages: dict[str, int] = field(default_factory=dict)
    flags: list[tuple[str, datetime]] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # conversations to put under a hold


def _conversation(rows: _Rows, rng, external_id: str, user, last: datetime, **facts) -> None:
    rows.conversations.append(
        Conversation(
            user=user,
            external_id=external_id,
            kind="chat",
            title="A chat",
            created_at=last - timedelta(hours=1),
            last_activity_at=last,
            rule=Rule.NOT_SHARED,  # placeholders: the deadline service rewrites both
            public_rule=Rule.NOT_SHARED,
            **facts,
        )
    )
    rows.messages[external_id] = rng.randint(1, 4)


def seed_backlog(
    *, rounds: int, due_per_round: int, rng: random.Random, now: datetime | None = None
) -> Backlog:
    """Seed the backlog (see the module docstring). Facts are bulk-inserted, as
    thousands of rows through the per-message services would dominate the
    test's time; every deadline is still computed by the deadline services,
    and checked here against the rules before the backlog is handed out."""
    now = (now or timezone.now()).replace(microsecond=0)
    start = now - timedelta(days=10)
    backlog = Backlog(cutoffs=[start + r * ROUND for r in range(rounds)])
    plain = [UserFactory() for _ in range(4)]
    sharer, held = UserFactory(), UserFactory()
    commercial = CommercialUserFactory()
    consent_record(
        article_version="v-test",
        user=sharer,
        allowed=True,
        source="import",
        effective_at=start - 20 * 365 * DAY,
    )
    rows = _Rows()
    expect = backlog.conversations

    for r, cutoff in enumerate(backlog.cutoffs):
        for i in range(due_per_round):
            due = cutoff - timedelta(seconds=rng.randrange(3600))
            name = f"r{r}-due-{i}"
            kind = rng.choices(["not_shared", "deleted", "flagged"], weights=[6, 3, 2])[0]
            if kind == "not_shared":
                _conversation(rows, rng, name, plain[i % 4], due - 30 * DAY)
            elif kind == "deleted":  # shared (5 years), deleted: 30 days from deletion
                _conversation(
                    rows,
                    rng,
                    name,
                    sharer,
                    due - 31 * DAY,
                    shared_for_training=True,
                    deleted_at=due - 30 * DAY,
                )
            else:  # flagged: content 2 years from the flag
                flagged = add_years(due, -2)
                due = add_years(flagged, 2)
                _conversation(rows, rng, name, plain[i % 4], flagged - DAY, flagged_at=flagged)
                rows.flags.append((name, flagged))
                backlog.scores[name] = Expected(add_years(flagged, 7))
            expect[name] = Expected(due, rows.messages[name])

        moment = cutoff - timedelta(minutes=30)
        # Never purged: a held account, a held conversation, a commercial account.
        for j in range(2):
            _conversation(rows, rng, f"r{r}-held-account-{j}", held, moment - 30 * DAY)
            _conversation(rows, rng, f"r{r}-commercial-{j}", commercial, moment - 30 * DAY)
        _conversation(rows, rng, f"r{r}-held-conversation", plain[r % 4], moment - 30 * DAY)
        rows.held.append(f"r{r}-held-conversation")
        # Scores outlive their content: due this round, and due years later.
        # Their content went years ago (the setup purge below removes it).
        for label, years_before in (("scores-due", 7), ("scores-kept", 3)):
            name = f"r{r}-{label}"
            flagged = add_years(moment, -years_before)
            _conversation(rows, rng, name, plain[r % 4], flagged - DAY, flagged_at=flagged)
            rows.flags.append((name, flagged))
            backlog.scores[name] = Expected(add_years(flagged, 7))
        # Not due for years (shared, 5 years) or weeks (not shared, 30 days).
        _conversation(rows, rng, f"r{r}-recent-shared", sharer, now - DAY, shared_for_training=True)
        _conversation(rows, rng, f"r{r}-recent", plain[r % 4], now - DAY)
        # Feedback: 5 years from submission, unless held.
        submitted = add_years(moment, -5)
        for name, user in ((f"r{r}-feedback", plain[r % 4]), (f"r{r}-feedback-held", held)):
            rows.feedback.append(
                Feedback(
                    user=user,
                    external_id=name,
                    kind=FeedbackKind.THUMBS_DOWN,
                    submitted_at=submitted,
                    public_retain_until=submitted,  # rewritten by the deadline service
                )
            )
            backlog.feedback[name] = Expected(add_years(submitted, 5) if user != held else None)

    for conversation in rows.conversations:
        name = conversation.external_id
        if name in expect:
            continue
        if conversation.user_id in (held.pk, commercial.pk) or name in rows.held:
            expect[name] = Expected(None, rows.messages[name])
        elif conversation.flagged_at is not None:
            expect[name] = Expected(add_years(conversation.flagged_at, 2), rows.messages[name])
        elif conversation.shared_for_training:
            expect[name] = Expected(
                add_years(conversation.last_activity_at, 5), rows.messages[name]
            )
        else:
            expect[name] = Expected(conversation.last_activity_at + 30 * DAY, rows.messages[name])

    _store(rows, held)
    _assert_deadlines_as_intended(backlog)
    # The content of the old flagged conversations went long ago: purge it now,
    # so that each round's scores phase has its own work.
    purge_due(now=backlog.cutoffs[0] - ROUND, batch_size=500)
    assert_consistent(backlog, cutoff=backlog.cutoffs[0] - ROUND, complete=True)
    return backlog


def _store(rows: _Rows, held_user) -> None:
    stored = Conversation.objects.bulk_create(rows.conversations, batch_size=2000)
    by_name = {c.external_id: c for c in stored}
    Message.objects.bulk_create(
        [
            Message(
                conversation=by_name[name],
                external_id=f"{name}-m{m}",
                role="user" if m % 2 == 0 else "assistant",
                content=f"message {m} of {name}",
                sent_at=by_name[name].last_activity_at - timedelta(minutes=count - m),
            )
            for name, count in rows.messages.items()
            for m in range(count)
        ],
        batch_size=5000,
    )
    Flag.objects.bulk_create(
        [
            Flag(
                user_id=by_name[name].user_id,
                conversation=by_name[name],
                conversation_external_id=name,
                flagged_at=flagged,
                scores={"violence": 0.91},
            )
            for name, flagged in rows.flags
        ]
    )
    Feedback.objects.bulk_create(rows.feedback)
    legal_hold_place(user=held_user, reason="litigation (fault test)", placed_by=None)
    for name in rows.held:
        conversation = by_name[name]
        legal_hold_place(
            user=conversation.user, conversation=conversation, reason="regulator", placed_by=None
        )
    refresh_conversation_deadlines(Conversation.objects.all())
    refresh_flag_deadlines(Flag.objects.all())
    refresh_feedback_deadlines(Feedback.objects.all())


def _assert_deadlines_as_intended(backlog: Backlog) -> None:
    stored = dict(Conversation.objects.values_list("external_id", "retain_until"))
    wrong = [n for n, e in backlog.conversations.items() if stored[n] != e.due_at]
    scores = dict(Flag.objects.values_list("conversation_external_id", "scores_retain_until"))
    wrong += [n for n, e in backlog.scores.items() if scores[n] != e.due_at]
    feedback = dict(Feedback.objects.values_list("external_id", "retain_until"))
    wrong += [n for n, e in backlog.feedback.items() if feedback[n] != e.due_at]
    assert not wrong, f"the seeded facts do not give the intended deadlines: {wrong[:5]}"


@dataclass(frozen=True)
class Snapshot:
    conversations: int  # still stored
    receipts: int  # conversations purged, one receipt each


def assert_consistent(backlog: Backlog, *, cutoff: datetime, complete: bool) -> Snapshot:
    """Check one consistent snapshot against the backlog's facts at `cutoff`.
    `complete`: a run at `cutoff` has finished, so everything due is gone."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        present = dict(
            Conversation.objects.annotate(n=Count("messages")).values_list("external_id", "n")
        )
        orphans = Message.objects.exclude(
            conversation_id__in=Conversation.objects.values("id")
        ).count()
        receipts = list(
            DeletionReceipt.objects.values_list("conversation_external_id", "messages_removed")
        )
        flags = set(Flag.objects.values_list("conversation_external_id", flat=True))
        feedback = set(Feedback.objects.values_list("external_id", flat=True))
        checked, chain_break = verify_receipt_chain()

    problems = []
    counts = Counter(name for name, _ in receipts)
    problems += [f"{n}: {k} receipts" for n, k in counts.items() if k > 1]
    removed = dict(receipts)
    unknown = (set(present) | set(removed)) - set(backlog.conversations)
    problems += [f"{n}: not part of the backlog" for n in sorted(unknown)]
    if orphans:
        problems.append(f"{orphans} messages without their conversation")
    for name, item in backlog.conversations.items():
        due = item.due_at is not None and item.due_at <= cutoff
        if name in present and name in removed:
            problems.append(f"{name}: has a receipt but is still stored")
        elif name not in present and name not in removed:
            problems.append(f"{name}: gone without a receipt")
        elif name in present and present[name] != item.messages:
            problems.append(f"{name}: half purged, {present[name]} of {item.messages} messages")
        elif name in removed and removed[name] != item.messages:
            problems.append(f"{name}: receipt counts {removed[name]} of {item.messages} messages")
        elif name in removed and not due:
            problems.append(f"{name}: purged though due {item.due_at} (cutoff {cutoff})")
        elif name in present and due and complete:
            problems.append(f"{name}: due {item.due_at} but kept by a finished run")
    for kind, expected, stored in (
        ("scores", backlog.scores, flags),
        ("feedback", backlog.feedback, feedback),
    ):
        for name, item in expected.items():
            due = item.due_at is not None and item.due_at <= cutoff
            if name not in stored and not due:
                problems.append(f"{kind} {name}: removed though due {item.due_at}")
            elif name in stored and due and complete:
                problems.append(f"{kind} {name}: due {item.due_at} but kept by a finished run")
    if chain_break is not None or checked != len(receipts):
        problems.append(f"receipt chain: {chain_break or f'{checked} of {len(receipts)} checked'}")
    assert not problems, f"{len(problems)} problems at cutoff {cutoff}: {problems[:10]}"
    return Snapshot(conversations=len(present), receipts=len(receipts))
