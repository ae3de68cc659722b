"""Auto-delete, the user's own rule: conversations deleted N calendar months
after their last activity, every date the user sees brought forward at once
(never later than without it), legal holds still winning, commercial accounts
unable to set it, and turning it off restoring every date."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import AccountType, AutoDeleteChange, User
from accounts.services import AutoDeleteNotTheUsers, InvalidAutoDelete, auto_delete_record
from retention.models import Conversation, Rule
from retention.policy import ConversationFacts, Durations, decide_conversation
from retention.policy.auto_delete import auto_delete_at, auto_delete_due, auto_delete_until
from retention.policy.dates import add_months
from retention.services.auto_delete import auto_delete_choose
from retention.services.deadlines import refresh_conversation_deadlines
from retention.services.holds import legal_hold_place, legal_hold_release
from retention.services.policy_settings import policy_settings_update
from tests.factories import CommercialUserFactory, UserFactory, utc

moments = st.datetimes(
    min_value=utc(2020, 1, 1).replace(tzinfo=None), max_value=utc(2034, 12, 31).replace(tzinfo=None)
).map(lambda d: d.replace(tzinfo=utc(2020, 1, 1).tzinfo))
periods = st.sampled_from([3, 18, 36])
durations_st = st.builds(
    Durations,
    not_shared_days=st.integers(1, 400),
    shared_training_years=st.integers(1, 10),
    deleted_days=st.integers(1, 400),
    flagged_content_years=st.integers(1, 10),
)


# --- the pure rule -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (utc(2025, 11, 30, 8), 3, utc(2026, 2, 28, 8)),  # clamped to February's end
        (utc(2027, 11, 30, 8), 3, utc(2028, 2, 29, 8)),  # a leap year's end
        (utc(2026, 1, 31), 18, utc(2027, 7, 31)),
        (utc(2026, 8, 31), 18, utc(2028, 2, 29)),
        (utc(2024, 2, 29), 36, utc(2027, 2, 28)),
        (utc(2026, 3, 15, 9, 30), 36, utc(2029, 3, 15, 9, 30)),
        (utc(2026, 10, 31), 3, utc(2027, 1, 31)),  # across the year
    ],
)
def test_the_moment_is_calendar_months_later_clamped_to_the_month_end(start, months, expected):
    assert add_months(start, months) == expected
    assert auto_delete_at(start, months) == expected


def test_off_has_no_moment_and_is_never_due():
    assert auto_delete_at(utc(2020, 1, 1), None) is None
    assert auto_delete_until(utc(2020, 1, 1), None, 30) is None
    assert not auto_delete_due(utc(2020, 1, 1), None, utc(2030, 1, 1))


def test_due_at_the_moment_never_a_microsecond_before():
    last = utc(2026, 1, 31, 12)
    moment = utc(2026, 4, 30, 12)
    assert not auto_delete_due(last, 3, moment - timedelta(microseconds=1))
    assert auto_delete_due(last, 3, moment)


def test_shared_for_training_chat_takes_the_auto_delete_rule_and_date():
    facts = ConversationFacts(
        last_activity_at=utc(2026, 1, 10), shared_for_training=True, auto_delete_months=18
    )
    decision = decide_conversation(facts)
    assert decision.rule == Rule.AUTO_DELETE
    assert decision.content_retain_until == utc(2027, 7, 10) + timedelta(days=30)
    # The article's deletion sentences explain it: deleted, then gone within 30 days.
    assert any("30 days" in q.text for q in decision.explanation)


def test_not_shared_chat_keeps_its_earlier_30_day_date():
    facts = ConversationFacts(
        last_activity_at=utc(2026, 1, 3, 9), shared_for_training=False, auto_delete_months=3
    )
    decision = decide_conversation(facts)
    assert decision.rule == Rule.NOT_SHARED
    assert decision.content_retain_until == utc(2026, 2, 2, 9)


def test_a_deleted_chat_goes_by_the_earlier_of_deletion_and_auto_delete():
    facts = ConversationFacts(
        last_activity_at=utc(2026, 1, 1),
        shared_for_training=True,
        deleted_at=utc(2026, 9, 1),
        auto_delete_months=3,
    )
    decision = decide_conversation(facts)
    assert decision.rule == Rule.DELETED
    assert decision.content_retain_until == utc(2026, 4, 1) + timedelta(days=30)


def test_flagged_content_keeps_its_own_date_and_a_hold_keeps_everything():
    flagged = ConversationFacts(
        last_activity_at=utc(2026, 1, 1),
        shared_for_training=True,
        flagged_at=utc(2026, 1, 2),
        auto_delete_months=3,
    )
    assert decide_conversation(flagged).content_retain_until == utc(2028, 1, 2)
    held = ConversationFacts(
        last_activity_at=utc(2026, 1, 1),
        shared_for_training=True,
        on_hold=True,
        auto_delete_months=3,
    )
    decision = decide_conversation(held)
    assert decision.rule == Rule.LEGAL_HOLD
    assert decision.content_retain_until is None
    # The user sees it as any other held item: the rule below the hold.
    assert decision.for_user.rule == Rule.AUTO_DELETE


def test_commercial_accounts_are_outside_it():
    facts = ConversationFacts(
        last_activity_at=utc(2026, 1, 1),
        shared_for_training=True,
        is_commercial=True,
        auto_delete_months=3,
    )
    assert decide_conversation(facts).rule == Rule.COMMERCIAL


@settings(max_examples=300)
@given(
    last=moments,
    shared=st.booleans(),
    deleted=st.one_of(st.none(), moments),
    months=periods,
    durations=durations_st,
)
def test_never_later_than_last_activity_plus_n_months_plus_the_window_nor_than_without(
    last, shared, deleted, months, durations
):
    """The issue's inequality, for every consumer conversation not flagged or
    held: retain_until <= last activity + N months + deletion window, and
    never later than the decision without auto-delete."""
    without = decide_conversation(
        ConversationFacts(last_activity_at=last, shared_for_training=shared, deleted_at=deleted),
        durations,
    )
    with_it = decide_conversation(
        ConversationFacts(
            last_activity_at=last,
            shared_for_training=shared,
            deleted_at=deleted,
            auto_delete_months=months,
        ),
        durations,
    )
    bound = add_months(last, months) + timedelta(days=durations.deleted_days)
    assert with_it.content_retain_until <= bound
    assert with_it.content_retain_until <= without.content_retain_until
    assert with_it.content_retain_until == min(without.content_retain_until, bound)


# --- the SQL twin ------------------------------------------------------------


class SqlTwinEqualsPureRule(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        last=moments,
        shared=st.booleans(),
        deleted=st.one_of(st.none(), moments),
        flagged=st.one_of(st.none(), moments),
        commercial=st.booleans(),
        held=st.booleans(),
        months=st.one_of(st.none(), periods),
        durations=durations_st,
    )
    def test_stored_deadlines_equal_the_pure_decision(
        self, last, shared, deleted, flagged, commercial, held, months, durations
    ):
        policy_settings_update(
            changes={
                "not_shared_days": durations.not_shared_days,
                "shared_training_years": durations.shared_training_years,
                "deleted_days": durations.deleted_days,
                "flagged_content_years": durations.flagged_content_years,
            },
            changed_by=None,
        )
        # The stored facts: a commercial account may carry a setting from
        # before its type changed (it is ignored).
        user = UserFactory(
            account_type=AccountType.COMMERCIAL if commercial else AccountType.CONSUMER,
            auto_delete_months=months,
        )
        conversation = Conversation.objects.create(
            user=user,
            external_id=f"c-{user.pk}",
            kind="chat",
            created_at=last,
            last_activity_at=last,
            shared_for_training=shared,
            deleted_at=deleted,
            flagged_at=flagged,
            rule=Rule.NOT_SHARED,
            public_rule=Rule.NOT_SHARED,
        )
        if held:
            legal_hold_place(user=user, reason="litigation", placed_by=None)
        refresh_conversation_deadlines(Conversation.objects.filter(pk=conversation.pk))
        conversation.refresh_from_db()

        expected = decide_conversation(
            ConversationFacts(
                last_activity_at=last,
                shared_for_training=shared,
                is_commercial=commercial,
                deleted_at=deleted,
                flagged_at=flagged,
                on_hold=held,
                auto_delete_months=months,
            ),
            durations,
        )
        assert conversation.rule == expected.rule
        assert conversation.retain_until == expected.content_retain_until
        assert conversation.public_rule == expected.for_user.rule
        assert conversation.public_retain_until == expected.for_user.content_retain_until


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("last", "months", "moment"),
    [
        (utc(2025, 11, 30, 8), 3, utc(2026, 2, 28, 8)),
        (utc(2027, 11, 30, 8), 3, utc(2028, 2, 29, 8)),
        (utc(2026, 8, 31), 18, utc(2028, 2, 29)),
        (utc(2024, 2, 29), 36, utc(2027, 2, 28)),
    ],
)
def test_month_ends_clamp_in_sql_as_in_python(add_message, last, months, moment):
    user = UserFactory()
    consent_allowed_chat(user, add_message, last)
    auto_delete_record(user=user, after_months=months)
    refresh_conversation_deadlines(Conversation.objects.filter(user=user))
    conversation = Conversation.objects.get(user=user)
    assert conversation.public_rule == Rule.AUTO_DELETE
    assert conversation.public_retain_until == moment + timedelta(days=30)


def consent_allowed_chat(user, add_message, at, conversation="c1"):
    """A chat shared for training (kept 5 years without auto-delete)."""
    from accounts.services import consent_record

    consent_record(
        user=user, allowed=True, source="dashboard", article_version="v", effective_at=at
    )
    return add_message(user, at, conversation=f"{user.pk}-{conversation}").conversation


# --- the setting -------------------------------------------------------------


@pytest.mark.django_db
def test_turning_it_on_brings_dates_forward_and_off_restores_every_date(add_message):
    user = UserFactory()
    now = utc(2026, 6, 1)
    recent = consent_allowed_chat(user, add_message, utc(2026, 5, 1), "recent")
    add_message(user, utc(2026, 5, 20), conversation=f"{user.pk}-not-shared")
    before = dict(
        Conversation.objects.filter(user=user).values_list("external_id", "public_retain_until")
    )

    auto_delete_choose(user=user, after_months=3, now=now)
    recent.refresh_from_db()
    assert recent.public_rule == recent.rule == Rule.AUTO_DELETE
    assert recent.public_retain_until == utc(2026, 8, 1) + timedelta(days=30)
    assert recent.deleted_at is None  # not due yet

    auto_delete_choose(user=user, after_months=None, now=now)
    after = dict(
        Conversation.objects.filter(user=user).values_list("external_id", "public_retain_until")
    )
    assert after == before
    recent.refresh_from_db()
    assert recent.public_rule == Rule.SHARED_TRAINING


@pytest.mark.django_db
def test_conversations_already_past_their_moment_are_deleted_when_it_is_turned_on(
    add_message,
):
    user = UserFactory()
    old = consent_allowed_chat(user, add_message, utc(2025, 1, 1), "old")
    new = consent_allowed_chat(user, add_message, utc(2026, 5, 1), "new")
    chosen = auto_delete_choose(user=user, after_months=3, now=utc(2026, 6, 1))
    assert chosen.deleted_now == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.deleted_at == utc(2026, 6, 1)
    assert old.public_rule == Rule.DELETED
    # Its date stays what the setting promised: never later than before.
    assert old.public_retain_until == utc(2025, 4, 1) + timedelta(days=30)
    assert new.deleted_at is None


@pytest.mark.django_db
def test_the_ledger_records_every_choice_and_repeating_one_records_nothing():
    user = UserFactory()
    auto_delete_record(user=user, after_months=18)
    assert auto_delete_record(user=user, after_months=18) is None
    auto_delete_record(user=user, after_months=None)
    user.refresh_from_db()
    assert user.auto_delete_months is None
    assert list(
        AutoDeleteChange.objects.filter(user=user).values_list("after_months", flat=True)
    ) == [18, None]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 1, 12, 24, -3, "3", 3.0, True, [3]])
def test_any_other_period_is_refused_and_changes_nothing(value):
    user = UserFactory()
    with pytest.raises(InvalidAutoDelete):
        auto_delete_choose(user=user, after_months=value)
    assert User.objects.get(pk=user.pk).auto_delete_months is None
    assert not AutoDeleteChange.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_a_commercial_user_cannot_set_it():
    user = CommercialUserFactory()
    with pytest.raises(AutoDeleteNotTheUsers):
        auto_delete_choose(user=user, after_months=3)
    assert User.objects.get(pk=user.pk).auto_delete_months is None
    assert not AutoDeleteChange.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_a_held_conversation_is_not_deleted_and_shows_the_rule_below_the_hold(add_message):
    user = UserFactory()
    chat = consent_allowed_chat(user, add_message, utc(2025, 1, 1), "held")
    hold = legal_hold_place(user=user, reason="litigation", placed_by=None, conversation=chat)
    chosen = auto_delete_choose(user=user, after_months=3, now=utc(2026, 6, 1))
    assert chosen.deleted_now == 0
    chat.refresh_from_db()
    assert chat.deleted_at is None
    assert chat.rule == Rule.LEGAL_HOLD and chat.retain_until is None
    assert chat.public_rule == Rule.AUTO_DELETE
    assert chat.public_retain_until == utc(2025, 4, 1) + timedelta(days=30)
    # Released, the held conversation's date is its auto-delete date again.
    legal_hold_release(hold=hold, released_by=None)
    chat.refresh_from_db()
    assert chat.rule == Rule.AUTO_DELETE
    assert chat.retain_until == utc(2025, 4, 1) + timedelta(days=30)
