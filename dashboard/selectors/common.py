"""Shared pieces of the dashboard selectors: page size, keyset pages, labels."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.text import slugify

from dashboard.presentation import (
    cursor_decode,
    cursor_encode,
)
from retention.models import ConversationKind, Rule
from retention.selectors.conversations import owned_conversations

PAGE_SIZE = 25
RECENT_LIMIT = 50  # rows of the short lists on the overview
# The rules a user can see (a hold is masked), in the order the overview lists them.
USER_RULES = (
    Rule.FLAGGED,
    Rule.AUTO_DELETE,
    Rule.SHARED_TRAINING,
    Rule.NOT_SHARED,
    Rule.COMMERCIAL,
)
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


def keyset_both(
    qs: QuerySet,
    moment_field: str,
    *,
    after: str | None,
    before: str | None,
    size: int,
    newest_first: bool = True,
) -> tuple[list, str | None, str | None]:
    """One page of `qs` in (moment_field, id) order, either after the cursor
    `after` (the next page) or before the cursor `before` (the previous page),
    with the cursors of the pages on either side: (rows, next, previous).

    Like `keyset`, every page is an index range, never an OFFSET. The side the
    page was read towards is exact (one row more is read); the side it came
    from is known to exist because the reader came from there."""
    desc = newest_first
    forward = before is None
    cursor = after if forward else before
    # Reading towards older rows in a newest-first list compares "<"; the
    # other three cases flip it.
    older = desc == forward
    if cursor:
        moment, pk = cursor_decode(cursor)
        op = "lt" if older else "gt"
        qs = qs.filter(**{f"{moment_field}__{op}e": moment}).filter(
            Q(**{f"{moment_field}__{op}": moment}) | Q(**{f"pk__{op}": pk})
        )
    sign = "-" if older else ""
    rows = list(qs.order_by(f"{sign}{moment_field}", f"{sign}pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    def key(row) -> str:
        return cursor_encode(getattr(row, moment_field), row.pk)

    if not rows:
        return rows, None, None
    if forward:
        return rows, key(rows[-1]) if more else None, key(rows[0]) if cursor else None
    return rows, key(rows[-1]), key(rows[0]) if more else None


# Stands in for the id when a route is reversed once for a whole page: made of
# characters quote() leaves alone, so it comes back as it went in.
_ID_MARKER = "__id__"


def id_url(viewname: str) -> Callable[[str], str]:
    """`reverse(viewname, args=[id])` for many ids at the cost of one reverse().

    A list page links every row twice; reverse() per link was a large part of
    its rendering time. The route is reversed once around a marker, and each
    id is quoted in as reverse() quotes it (the same safe characters)."""
    head, marker, tail = reverse(viewname, args=[_ID_MARKER]).rpartition(_ID_MARKER)
    if not marker:
        raise ValueError(f"{viewname} does not take its id as the path's argument")

    def url(external_id: str) -> str:
        return f"{head}{quote(external_id, safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"

    return url


def policy_anchor_url(anchor: str) -> str:
    return f"{reverse('dashboard:policy')}#{anchor}"


@dataclass(frozen=True)
class HistoryCounts:
    """How many conversations the user has, in one aggregate: every count a
    page shows of the history comes from here, so the overview's table, the
    consent preview and the conversation list's filters count the same set."""

    by_rule: dict[str, int]  # in the history (not deleted), per rule the user sees
    deleted_pending: int  # deleted, content not yet removed
    # In the history, per rule, split by basis (only with_basis=True): a
    # flagged conversation can be shared for training and still be listed
    # under "Flagged", so the consent preview says how its count splits.
    shared_by_rule: dict[str, int] = field(default_factory=dict)
    not_shared_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def in_history(self) -> int:
        return sum(self.by_rule.values())

    @property
    def held(self) -> int:
        """Everything of the user's history the portal still holds."""
        return self.in_history + self.deleted_pending

    @property
    def shared(self) -> int:
        return sum(self.shared_by_rule.values())

    @property
    def not_shared(self) -> int:
        return sum(self.not_shared_by_rule.values())


def history_counts(*, user_id: int, with_basis: bool = False) -> HistoryCounts:
    """One aggregate over the user's conversations. Without `with_basis` it
    reads only columns of conv_user_counts_idx, so PostgreSQL answers from the
    index alone. COUNT(column) counts the rows where it is not null:
    public_rule never is; deleted_at is set exactly on deleted ones."""
    visible = Q(deleted_at__isnull=True)
    aggregates = {
        f"rule_{rule.value}": Count("public_rule", filter=visible & Q(public_rule=rule))
        for rule in USER_RULES
    }
    if with_basis:
        for rule in USER_RULES:
            for shared in (True, False):
                aggregates[f"{'shared' if shared else 'not'}_{rule.value}"] = Count(
                    "public_rule",
                    filter=visible & Q(public_rule=rule, shared_for_training=shared),
                )
    counts = owned_conversations(user_id=user_id).aggregate(
        deleted=Count("deleted_at"), **aggregates
    )
    return HistoryCounts(
        by_rule={rule.value: counts[f"rule_{rule.value}"] for rule in USER_RULES},
        deleted_pending=counts["deleted"],
        shared_by_rule=(
            {rule.value: counts[f"shared_{rule.value}"] for rule in USER_RULES}
            if with_basis
            else {}
        ),
        not_shared_by_rule=(
            {rule.value: counts[f"not_{rule.value}"] for rule in USER_RULES} if with_basis else {}
        ),
    )


def deleted_anchor(external_id: str) -> str:
    """The fragment id of a deleted conversation's row on the deleted page."""
    return f"deleted-{slugify(external_id)}"


def feedback_anchor(external_id: str) -> str:
    return f"feedback-{slugify(external_id)}"
