"""Shared pieces of the dashboard selectors: page size, keyset pages, labels."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

from dashboard.presentation import (
    cursor_decode,
    cursor_encode,
)
from retention.models import ConversationKind, Rule

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
