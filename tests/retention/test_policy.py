"""The pure policy: every worked example of docs/retention-rules.md, each boundary
one second either side, and properties over random histories. No database."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.policy import (
    ConsentEntry,
    ConversationFacts,
    Durations,
    FeedbackFacts,
    add_days,
    add_years,
    consent_at,
    decide_conversation,
    decide_feedback,
)
from retention.policy.article import DEAD_LINK_QUOTES, SENTENCE_MAP
from tests.factories import utc

SECOND = timedelta(seconds=1)


def facts(**overrides) -> ConversationFacts:
    values = {"last_activity_at": utc(2026, 1, 3, 9), "shared_for_training": False}
    values.update(overrides)
    return ConversationFacts(**values)


# ---- Worked examples of docs/retention-rules.md --------------------------------

LEDGER_ALLOWED_JAN_5 = [ConsentEntry(utc(2026, 1, 5), True)]
LEDGER_OFF_MAR_1 = [*LEDGER_ALLOWED_JAN_5, ConsentEntry(utc(2026, 3, 1), False)]


@pytest.mark.parametrize(
    ("example", "decision_facts", "rule", "content_until", "scores_until"),
    [
        (
            "1: consent never given, last message 2026-01-03 09:00",
            facts(shared_for_training=consent_at([], utc(2026, 1, 3, 9))),
            "not_shared",
            utc(2026, 2, 2, 9),
            None,
        ),
        (
            "2: consent allowed 2026-01-05, resumed 2026-01-10",
            facts(
                last_activity_at=utc(2026, 1, 10),
                shared_for_training=consent_at(LEDGER_ALLOWED_JAN_5, utc(2026, 1, 10)),
                consent_now=True,
            ),
            "shared_training",
            utc(2031, 1, 10),
            None,
        ),
        (
            "3: consent turned off 2026-03-01, no new message",
            facts(
                last_activity_at=utc(2026, 1, 10),
                shared_for_training=consent_at(LEDGER_OFF_MAR_1, utc(2026, 1, 10)),
                consent_now=consent_at(LEDGER_OFF_MAR_1, utc(2026, 3, 2)),
            ),
            "shared_training",
            utc(2031, 1, 10),
            None,
        ),
        (
            "4: deleted 2026-03-02",
            facts(
                last_activity_at=utc(2026, 1, 10),
                shared_for_training=True,
                deleted_at=utc(2026, 3, 2),
            ),
            "deleted",
            utc(2026, 4, 1),
            None,
        ),
        (
            "5: flagged 2026-03-05 and deleted 2026-03-06",
            facts(flagged_at=utc(2026, 3, 5), deleted_at=utc(2026, 3, 6)),
            "flagged",
            utc(2028, 3, 5),
            utc(2033, 3, 5),
        ),
    ],
)
def test_worked_examples_give_the_documented_rule_and_dates(
    example, decision_facts, rule, content_until, scores_until
):
    decision = decide_conversation(decision_facts)
    assert decision.rule == rule, example
    assert decision.content_retain_until == content_until, example
    assert decision.scores_retain_until == scores_until, example


def test_example_3_consent_off_excludes_the_chat_from_future_runs():
    decision = decide_conversation(
        facts(last_activity_at=utc(2026, 1, 10), shared_for_training=True, consent_now=False)
    )
    assert decision.future_training is False
    assert any("future model training runs" in q.text for q in decision.explanation)


def test_example_6_years_are_calendar_years_and_29_february_plus_one_is_28_february():
    assert add_years(utc(2024, 2, 29, 12), 1) == utc(2025, 2, 28, 12)
    assert add_years(utc(2024, 2, 29, 12), 4) == utc(2028, 2, 29, 12)
    decision = decide_conversation(
        facts(last_activity_at=utc(2024, 2, 29), shared_for_training=True)
    )
    assert decision.content_retain_until == utc(2029, 2, 28)


# ---- Boundaries: the deadline is the last allowed moment ------------------------

D = Durations()


@pytest.mark.parametrize(
    ("name", "decision_facts", "start", "deadline"),
    [
        ("not shared: 30 days", facts(), utc(2026, 1, 3, 9), add_days(utc(2026, 1, 3, 9), 30)),
        (
            "shared: 5 years",
            facts(shared_for_training=True),
            utc(2026, 1, 3, 9),
            add_years(utc(2026, 1, 3, 9), 5),
        ),
        (
            "deleted: 30 days",
            facts(shared_for_training=True, deleted_at=utc(2026, 2, 1)),
            utc(2026, 2, 1),
            add_days(utc(2026, 2, 1), 30),
        ),
        (
            "flagged content: 2 years",
            facts(flagged_at=utc(2026, 1, 4)),
            utc(2026, 1, 4),
            add_years(utc(2026, 1, 4), 2),
        ),
    ],
)
def test_content_is_retained_until_exactly_its_deadline(name, decision_facts, start, deadline):
    until = decide_conversation(decision_facts).content_retain_until
    assert until == deadline, name
    # One second before the deadline the content must still exist, one second
    # after it may not: the purge removes rows with retain_until < now.
    assert not (until < deadline - SECOND), name
    assert until < deadline + SECOND, name


def test_scores_are_retained_7_years_from_the_flag_to_the_second():
    flagged = utc(2026, 3, 5, 8, 30, 15)
    decision = decide_conversation(facts(flagged_at=flagged))
    assert decision.scores_retain_until == add_years(flagged, 7)
    assert decision.scores_retain_until - SECOND < add_years(flagged, 7)


def test_feedback_is_kept_5_years_whatever_happens_to_the_conversation():
    decision = decide_feedback(FeedbackFacts(submitted_at=utc(2026, 5, 1, 12)))
    assert decision.retain_until == utc(2031, 5, 1, 12)
    assert decision.public_retain_until == utc(2031, 5, 1, 12)


def test_consent_boundary_is_inclusive_at_the_second_of_the_change():
    ledger = [ConsentEntry(utc(2026, 1, 5), True)]
    assert consent_at(ledger, utc(2026, 1, 5) - SECOND) is False
    assert consent_at(ledger, utc(2026, 1, 5)) is True
    assert consent_at(ledger, utc(2026, 1, 5) + SECOND) is True


# ---- Precedence ---------------------------------------------------------------


def test_commercial_accounts_are_not_governed_and_nothing_is_purged():
    decision = decide_conversation(
        facts(is_commercial=True, flagged_at=utc(2026, 1, 4), deleted_at=utc(2026, 1, 5))
    )
    assert decision.rule == "commercial"
    assert decision.content_retain_until is None
    assert decision.scores_retain_until is None
    assert decision.future_training is False
    assert any("consumer products" in q.text for q in decision.explanation)


def test_legal_hold_stops_the_purge_but_the_user_sees_the_ordinary_rule():
    held = decide_conversation(facts(deleted_at=utc(2026, 1, 5), on_hold=True))
    assert held.rule == "legal_hold"
    assert held.content_retain_until is None
    assert held.for_user.rule == "deleted"
    assert held.for_user.content_retain_until == utc(2026, 2, 2, 9)
    assert all("required by law" not in q.text for q in held.for_user.explanation)


def test_a_released_hold_gives_back_the_rule_below_even_when_already_past():
    released = decide_conversation(facts(on_hold=False))
    assert released.rule == "not_shared"
    assert released.content_retain_until == utc(2026, 2, 2, 9)


def test_deletion_never_lengthens_retention_beyond_the_rule_below():
    base = decide_conversation(facts(last_activity_at=utc(2026, 1, 1)))
    deleted = decide_conversation(
        facts(last_activity_at=utc(2026, 1, 1), deleted_at=utc(2026, 1, 20))
    )
    assert base.content_retain_until == utc(2026, 1, 31)
    assert deleted.content_retain_until == utc(2026, 1, 31)


def test_explanations_quote_the_article_verbatim():
    for decision_facts in (
        facts(),
        facts(shared_for_training=True),
        facts(deleted_at=utc(2026, 1, 5)),
        facts(flagged_at=utc(2026, 1, 5)),
        facts(is_commercial=True),
        facts(on_hold=True),
    ):
        for quote in decide_conversation(decision_facts).explanation:
            # Verbatim, or a sentence's own words up to a dead link phrase
            # (issue 11: no quote ends in a "see here" that points nowhere).
            assert quote.text in SENTENCE_MAP or quote.text in DEAD_LINK_QUOTES.values()
            assert quote.section


def test_durations_come_from_the_settings_not_constants():
    decision = decide_conversation(facts(), Durations(not_shared_days=7))
    assert decision.content_retain_until == utc(2026, 1, 10, 9)


# ---- Properties over random histories ------------------------------------------

moments = st.datetimes(
    min_value=utc(2020, 1, 1).replace(tzinfo=None), max_value=utc(2035, 1, 1).replace(tzinfo=None)
).map(lambda d: d.replace(tzinfo=utc(2020, 1, 1).tzinfo))


@st.composite
def histories(draw):
    ledger = sorted(
        draw(st.lists(st.builds(ConsentEntry, moments, st.booleans()), max_size=6)),
        key=lambda e: e.effective_at,
    )
    messages = sorted(draw(st.lists(moments, min_size=1, max_size=8)))
    last = messages[-1]
    deleted = draw(st.one_of(st.none(), moments.filter(lambda m: m >= messages[0])))
    flagged = draw(st.one_of(st.none(), moments.filter(lambda m: m >= messages[0])))
    durations = Durations(
        not_shared_days=draw(st.integers(1, 400)),
        shared_training_years=draw(st.integers(1, 10)),
        deleted_days=draw(st.integers(1, 400)),
        flagged_content_years=draw(st.integers(1, 10)),
        flagged_scores_years=draw(st.integers(1, 15)),
    )
    return ledger, last, deleted, flagged, durations


@settings(max_examples=400, deadline=None)
@given(histories())
def test_no_deadline_is_ever_earlier_than_the_rules_allow(history):
    ledger, last, deleted, flagged, durations = history
    shared = consent_at(ledger, last)
    decision = decide_conversation(
        ConversationFacts(last, shared, deleted_at=deleted, flagged_at=flagged), durations
    )
    until = decision.content_retain_until
    if flagged is not None:
        assert until >= add_years(flagged, durations.flagged_content_years)
        assert decision.scores_retain_until >= add_years(flagged, durations.flagged_scores_years)
    elif deleted is not None:
        # Deleted: the earlier of the rule below and 30 days after deletion.
        below = (
            add_years(last, durations.shared_training_years)
            if shared
            else add_days(last, durations.not_shared_days)
        )
        assert until >= min(below, add_days(deleted, durations.deleted_days))
    elif shared:
        assert until >= add_years(last, durations.shared_training_years)
    else:
        assert until >= add_days(last, durations.not_shared_days)
    if flagged is None and deleted is None:
        assert until > last


@settings(max_examples=400, deadline=None)
@given(histories())
def test_a_deletion_never_lengthens_retention_beyond_the_rules(history):
    ledger, last, deleted, flagged, durations = history
    shared = consent_at(ledger, last)
    kept = decide_conversation(ConversationFacts(last, shared, flagged_at=flagged), durations)
    if deleted is None:
        return
    after_delete = decide_conversation(
        ConversationFacts(last, shared, deleted_at=deleted, flagged_at=flagged), durations
    )
    assert after_delete.content_retain_until <= kept.content_retain_until
    if flagged is None:
        assert after_delete.content_retain_until <= add_days(deleted, durations.deleted_days)


@settings(max_examples=200, deadline=None)
@given(histories(), st.booleans())
def test_flipping_consent_later_never_changes_a_stored_decision(history, flip_to):
    ledger, last, deleted, flagged, durations = history
    before = decide_conversation(
        ConversationFacts(last, consent_at(ledger, last), deleted_at=deleted, flagged_at=flagged),
        durations,
    )
    later = [*ledger, ConsentEntry(last + timedelta(days=1), flip_to)]
    after = decide_conversation(
        ConversationFacts(last, consent_at(later, last), deleted_at=deleted, flagged_at=flagged),
        durations,
    )
    assert after.content_retain_until == before.content_retain_until
    assert after.rule == before.rule
