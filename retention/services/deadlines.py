"""Rewrites stored deadlines from the facts on the rows, in one UPDATE per table.

This is the SQL twin of retention.policy.decide (tests/retention/
test_deadlines_sql.py holds both to the same answers). Every service that
changes a fact calls one of these on the rows it touched; a settings change
calls them on everything.

The rewrite's SET clause is the same for every call under the same durations,
so it is compiled once per process (per model, database and durations) and
only the rows' selection is compiled per call: compiling the expression trees
took about 8 of the 10 ms a rewrite cost, and ingest rewrites after every
write it makes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models import Case, Count, Expression, F, Q, QuerySet, Value, When
from django.db.models.functions import Least
from django.db.models.lookups import LessThan
from django.db.models.sql import UpdateQuery

from accounts.data_version import data_version_bump_all
from accounts.selectors import auto_delete_months_of
from retention.db_functions import AddDays, AddMonths, AddYears
from retention.models import Conversation, Feedback, Flag, Rule
from retention.policy import Durations
from retention.selectors.exemptions import hold_covers, owner_is_commercial
from retention.selectors.settings import policy_durations

_NULL_DATETIME = Value(None, output_field=Conversation._meta.get_field("retain_until"))


def conversation_deadline_expressions(
    d: Durations, *, auto_delete_months: Expression | None = None
) -> dict[str, Expression]:
    """The columns a conversation's deadlines are rewritten to, under
    durations `d`: rule, retain_until, public_rule, public_retain_until.
    `auto_delete_months` stands in for the owner's auto-delete (a preview
    asks what another setting would give); by default the one in force."""
    commercial = owner_is_commercial()
    held = hold_covers(conversation_ref="external_id")
    base_until = Case(
        When(shared_for_training=True, then=AddYears("last_activity_at", d.shared_training_years)),
        default=AddDays("last_activity_at", d.not_shared_days),
    )
    # The owner's auto-delete (retention.policy.auto_delete): NULL when off,
    # and a comparison with NULL is never true, so "off" changes nothing.
    months = auto_delete_months if auto_delete_months is not None else auto_delete_months_of()
    auto_until = AddDays(AddMonths("last_activity_at", months), d.deleted_days)
    deleted_until = Least(base_until, AddDays("deleted_at", d.deleted_days))
    public_rule = Case(
        When(commercial, then=Value(Rule.COMMERCIAL)),
        When(flagged_at__isnull=False, then=Value(Rule.FLAGGED)),
        When(deleted_at__isnull=False, then=Value(Rule.DELETED)),
        When(LessThan(auto_until, base_until), then=Value(Rule.AUTO_DELETE)),
        When(shared_for_training=True, then=Value(Rule.SHARED_TRAINING)),
        default=Value(Rule.NOT_SHARED),
    )
    public_until = Case(
        When(commercial, then=_NULL_DATETIME),
        When(flagged_at__isnull=False, then=AddYears("flagged_at", d.flagged_content_years)),
        When(
            deleted_at__isnull=False,
            then=Case(
                When(LessThan(auto_until, deleted_until), then=auto_until),
                default=deleted_until,
            ),
        ),
        When(LessThan(auto_until, base_until), then=auto_until),
        default=base_until,
    )
    return {
        "public_rule": public_rule,
        "public_retain_until": public_until,
        "rule": Case(
            When(commercial, then=Value(Rule.COMMERCIAL)),
            When(held, then=Value(Rule.LEGAL_HOLD)),
            default=public_rule,
        ),
        "retain_until": Case(
            When(commercial, then=_NULL_DATETIME),
            When(held, then=_NULL_DATETIME),
            default=public_until,
        ),
    }


def flag_deadline_expressions(d: Durations) -> dict[str, Expression]:
    return {
        "scores_retain_until": Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=AddYears("flagged_at", d.flagged_scores_years),
        )
    }


def feedback_deadline_expressions(d: Durations) -> dict[str, Expression]:
    public_until = AddYears("submitted_at", d.feedback_years)
    return {
        "public_retain_until": public_until,
        "retain_until": Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=public_until,
        ),
    }


_EXPRESSIONS: dict[type[models.Model], Callable[[Durations], dict[str, Expression]]] = {
    Conversation: conversation_deadline_expressions,
    Flag: flag_deadline_expressions,
    Feedback: feedback_deadline_expressions,
}


@lru_cache(maxsize=64)
def _compiled_rewrite(
    model: type[models.Model], alias: str, vendor: str, durations: Durations
) -> tuple[str, tuple]:
    """`UPDATE <table> SET <the deadlines under durations>` without a WHERE,
    compiled as QuerySet.update() compiles it. `vendor` is part of the key
    only so a test run that switches databases never reuses another's SQL."""
    query = UpdateQuery(model)
    query.add_update_values(_EXPRESSIONS[model](durations))
    sql, params = query.get_compiler(alias).as_sql()
    return sql, tuple(params)


def _rewrite(rows: QuerySet, durations: Durations | None = None) -> int:
    """QuerySet.update() with the deadline expressions of `rows`' model, the
    SET clause from the cache and the selection of `rows` as
    `WHERE pk IN (SELECT pk ...)`, as Django writes an update of a filtered
    queryset with joins. Returns the number of rows updated."""
    model, alias = rows.model, rows.db
    connection = connections[alias]
    sql, params = _compiled_rewrite(
        model, alias, connection.vendor, durations or policy_durations()
    )
    if rows.query.where:
        try:
            selected, selected_params = (
                rows.order_by().values("pk").query.get_compiler(alias).as_sql()
            )
        except EmptyResultSet:  # pk__in=[] and the like: nothing to rewrite
            return 0
        pk = connection.ops.quote_name(model._meta.pk.column)
        sql = f"{sql} WHERE {pk} IN ({selected})"
        params = (*params, *selected_params)
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def refresh_conversation_deadlines(
    conversations: QuerySet[Conversation], *, durations: Durations | None = None
) -> int:
    """Recompute rule and retain-until (effective and user-facing) for the
    given conversations, under `durations` (by default the settings in
    force). Returns the number of rows updated."""
    return _rewrite(conversations, durations)


def refresh_flag_deadlines(flags: QuerySet[Flag], *, durations: Durations | None = None) -> int:
    return _rewrite(flags, durations)


def refresh_feedback_deadlines(
    feedback: QuerySet[Feedback], *, durations: Durations | None = None
) -> int:
    return _rewrite(feedback, durations)


def refresh_auto_delete_deadlines(user_id: int) -> int:
    """After the account's auto-delete changed: its conversations' dates
    (feedback and scores do not depend on it). Turning it off restores every
    date the rules give without it."""
    return refresh_conversation_deadlines(Conversation.objects.filter(user_id=user_id))


def refresh_account_deadlines(user_id: int) -> None:
    """Everything of one account: after an account-level fact changes
    (account type, an account-wide hold)."""
    refresh_conversation_deadlines(Conversation.objects.filter(user_id=user_id))
    refresh_flag_deadlines(Flag.objects.filter(user_id=user_id))
    refresh_feedback_deadlines(Feedback.objects.filter(user_id=user_id))


def refresh_all_deadlines() -> None:
    """After a settings change: every stored deadline, in three UPDATEs."""
    data_version_bump_all()
    refresh_conversation_deadlines(Conversation.objects.all())
    refresh_flag_deadlines(Flag.objects.all())
    refresh_feedback_deadlines(Feedback.objects.all())


@dataclass(frozen=True)
class DeadlinePreview:
    """What a settings change would do to the stored deadlines."""

    moved: int  # conversations, score sets and feedback whose deadline moves
    due_at_once: int  # ... that the change makes due now: the next purge run removes them

    @property
    def purges(self) -> bool:
        return self.due_at_once > 0


def deadline_change_preview(*, durations: Durations, now: datetime) -> DeadlinePreview:
    """The deadlines a change to `durations` would move, and how many items it
    would make due at `now`, counted in SQL with the very expressions the
    rewrite uses (nothing is written). Due as the purge sees it: a new
    effective deadline at or before `now` where the stored one is later (or
    none); scores only once their content is gone."""
    moved = due = 0
    for queryset, expressions, deadline, public, extra in (
        (
            Conversation.objects.all(),
            conversation_deadline_expressions(durations),
            "retain_until",
            "public_retain_until",
            Q(),
        ),
        (
            Flag.objects.all(),
            flag_deadline_expressions(durations),
            "scores_retain_until",
            None,
            Q(conversation__isnull=True),
        ),
        (
            Feedback.objects.all(),
            feedback_deadline_expressions(durations),
            "retain_until",
            "public_retain_until",
            Q(),
        ),
    ):
        annotated = queryset.annotate(
            new_deadline=expressions[deadline],
            **({"new_public": expressions[public]} if public else {}),
        )
        changed = ~Q(new_deadline=F(deadline))
        if public:
            changed |= ~Q(new_public=F(public))
        counts = annotated.aggregate(
            moved=Count("pk", filter=changed),
            due=Count(
                "pk",
                filter=extra
                & Q(new_deadline__lte=now)
                & (Q(**{f"{deadline}__isnull": True}) | Q(**{f"{deadline}__gt": now})),
            ),
        )
        moved += counts["moved"]
        due += counts["due"]
    return DeadlinePreview(moved=moved, due_at_once=due)
