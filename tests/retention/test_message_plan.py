"""The message plan (retention/policy/message_plan.py): what a list of new
messages creates, moves, stores or refuses, on plain values. No database: the
whole plan is decided before the service writes anything."""

from dataclasses import replace

import pytest

from retention.policy import ConsentEntry
from retention.policy.message_plan import (
    ConversationState,
    MessageFacts,
    MessageRefused,
    NewMessage,
    Refusal,
    StoredMessage,
    plan_messages,
)
from tests.factories import utc

ALICE, BOB = 1, 2
# Alice allowed training on 5 January and turned it off on 1 March.
LEDGERS = {ALICE: [ConsentEntry(utc(2026, 1, 5), True), ConsentEntry(utc(2026, 3, 1), False)]}

STORED = ConversationState(
    user_id=ALICE,
    kind="chat",
    title="Stored title",
    created_at=utc(2026, 1, 2),
    last_activity_at=utc(2026, 1, 3),
    shared_for_training=False,
)


def message(
    at,
    *,
    conversation="c1",
    message_id="m1",
    user_id=ALICE,
    title="",
    content="hello",
    role="user",
    kind="chat",
) -> NewMessage:
    return NewMessage(
        user_id=user_id,
        conversation_external_id=conversation,
        kind=kind,
        title=title,
        message_external_id=message_id,
        role=role,
        content=content,
        sent_at=at,
    )


def stored_as(m: NewMessage) -> StoredMessage:
    return StoredMessage(m.conversation_external_id, m.role, m.content, m.sent_at)


def facts(*, conversations=None, purged=(), known=None, ledgers=None) -> MessageFacts:
    return MessageFacts(
        conversations=conversations or {},
        purged=frozenset(purged),
        known=known or {},
        ledgers=LEDGERS if ledgers is None else ledgers,
    )


def refusal(facts_: MessageFacts, messages: list[NewMessage]) -> tuple[int, Refusal]:
    with pytest.raises(MessageRefused) as refused:
        plan_messages(facts_, messages)
    return refused.value.index, refused.value.refusal


def test_the_first_message_creates_the_conversation_with_the_basis_at_its_time():
    m = message(utc(2026, 1, 10), title="Trip", kind="coding_session")
    plan = plan_messages(facts(), [m])
    assert plan.created == {
        "c1": ConversationState(
            user_id=ALICE,
            kind="coding_session",
            title="Trip",
            created_at=utc(2026, 1, 10),
            last_activity_at=utc(2026, 1, 10),
            shared_for_training=True,  # consent allowed since 5 January
        )
    }
    assert plan.changed == {}
    assert plan.to_store == [m]


def test_a_new_conversation_without_consent_in_force_is_not_shared():
    plan = plan_messages(facts(ledgers={}), [message(utc(2026, 1, 10))])
    assert plan.created["c1"].shared_for_training is False


def test_a_later_message_resumes_activity_and_the_basis_at_its_time():
    m = message(utc(2026, 1, 10))
    plan = plan_messages(facts(conversations={"c1": STORED}), [m])
    assert plan.created == {}
    assert plan.changed == {
        "c1": replace(STORED, last_activity_at=utc(2026, 1, 10), shared_for_training=True)
    }
    assert plan.to_store == [m]


def test_a_resume_after_consent_was_turned_off_is_not_shared_any_more():
    shared = replace(STORED, last_activity_at=utc(2026, 2, 1), shared_for_training=True)
    plan = plan_messages(facts(conversations={"c1": shared}), [message(utc(2026, 3, 2))])
    assert plan.changed["c1"].shared_for_training is False


def test_a_resume_takes_the_title_only_if_one_is_given():
    later = [message(utc(2026, 1, 10), message_id="m1", title="")]
    assert plan_messages(facts(conversations={"c1": STORED}), later).changed["c1"].title == (
        "Stored title"
    )
    later.append(message(utc(2026, 1, 11), message_id="m2", title="Renamed"))
    assert plan_messages(facts(conversations={"c1": STORED}), later).changed["c1"].title == (
        "Renamed"
    )


def test_an_older_message_moves_only_the_start():
    m = message(utc(2026, 1, 1), title="Ignored")
    plan = plan_messages(facts(conversations={"c1": STORED}), [m])
    assert plan.changed == {"c1": replace(STORED, created_at=utc(2026, 1, 1))}
    assert plan.to_store == [m]


def test_a_message_within_the_stored_span_is_stored_and_moves_nothing():
    m = message(utc(2026, 1, 2, 12), title="Ignored")
    plan = plan_messages(facts(conversations={"c1": STORED}), [m])
    assert (plan.created, plan.changed, plan.to_store) == ({}, {}, [m])


def test_messages_of_a_new_conversation_build_on_each_other():
    first = message(utc(2026, 1, 3), message_id="m1", title="First")
    later = message(utc(2026, 1, 10), message_id="m2")  # after consent: shared now
    older = message(utc(2026, 1, 1), message_id="m3")
    plan = plan_messages(facts(), [first, later, older])
    assert plan.created == {
        "c1": ConversationState(
            user_id=ALICE,
            kind="chat",
            title="First",
            created_at=utc(2026, 1, 1),
            last_activity_at=utc(2026, 1, 10),
            shared_for_training=True,
        )
    }
    assert plan.to_store == [first, later, older]


def test_created_conversations_keep_the_order_of_their_first_message():
    messages = [
        message(utc(2026, 1, 3), conversation="b", message_id="m1"),
        message(utc(2026, 1, 4), conversation="a", message_id="m2"),
        message(utc(2026, 1, 5), conversation="b", message_id="m3"),
    ]
    assert list(plan_messages(facts(), messages).created) == ["b", "a"]


def test_a_redelivery_of_a_stored_message_is_skipped():
    m = message(utc(2026, 1, 10))
    plan = plan_messages(facts(conversations={"c1": STORED}, known={"m1": stored_as(m)}), [m])
    assert (plan.created, plan.changed, plan.to_store) == ({}, {}, [])


def test_a_redelivery_within_the_list_is_stored_once():
    m = message(utc(2026, 1, 10))
    plan = plan_messages(facts(), [m, m])
    assert plan.to_store == [m]


@pytest.mark.parametrize(
    "difference",
    [
        {"content": "something else"},
        {"role": "assistant"},
        {"at": utc(2026, 1, 11)},
        {"conversation": "c2"},
    ],
)
def test_a_different_message_under_a_stored_id_is_refused(difference):
    stored = message(utc(2026, 1, 10))
    clash = message(**{"at": utc(2026, 1, 10), **difference})
    stored_facts = facts(conversations={"c1": STORED}, known={"m1": stored_as(stored)})
    assert refusal(stored_facts, [clash]) == (0, Refusal.ID_TAKEN)


def test_a_different_message_under_an_id_used_earlier_in_the_list_is_refused():
    first = message(utc(2026, 1, 10), content="one")
    again = message(utc(2026, 1, 10), content="two")
    assert refusal(facts(), [first, again]) == (1, Refusal.ID_TAKEN)


def test_a_conversation_of_another_account_is_refused():
    assert refusal(
        facts(conversations={"c1": STORED}), [message(utc(2026, 1, 10), user_id=BOB)]
    ) == (
        0,
        Refusal.ANOTHER_ACCOUNT,
    )


def test_a_conversation_created_earlier_in_the_list_by_another_account_is_refused():
    messages = [
        message(utc(2026, 1, 10), message_id="m1"),
        message(utc(2026, 1, 11), message_id="m2", user_id=BOB),
    ]
    assert refusal(facts(), messages) == (1, Refusal.ANOTHER_ACCOUNT)


def test_another_accounts_conversation_is_refused_even_for_a_redelivered_message():
    m = message(utc(2026, 1, 10), user_id=BOB)
    known = {"m1": stored_as(m)}
    assert refusal(facts(conversations={"c1": STORED}, known=known), [m]) == (
        0,
        Refusal.ANOTHER_ACCOUNT,
    )


def test_a_purged_conversation_is_refused():
    assert refusal(facts(purged={"c1"}), [message(utc(2026, 1, 10))]) == (0, Refusal.PURGED)


def test_the_first_refused_message_wins():
    messages = [
        message(utc(2026, 1, 10), conversation="fine", message_id="m1"),
        message(utc(2026, 1, 10), conversation="gone", message_id="m2"),
        message(utc(2026, 1, 10), conversation="c1", message_id="m3", user_id=BOB),
    ]
    assert refusal(facts(conversations={"c1": STORED}, purged={"gone"}), messages) == (
        1,
        Refusal.PURGED,
    )


def test_a_refusal_after_messages_that_passed_returns_no_plan_and_changes_no_facts():
    stored = message(utc(2026, 1, 10), message_id="m1")
    given = facts(conversations={"c1": STORED}, known={"m1": stored_as(stored)})
    snapshot = (dict(given.conversations), dict(given.known))
    messages = [
        message(utc(2026, 1, 20), message_id="m2"),  # would resume c1
        message(utc(2026, 1, 20), conversation="c2", message_id="m3"),  # would create c2
        message(utc(2026, 1, 10), message_id="m1", content="clash"),
    ]
    assert refusal(given, messages) == (2, Refusal.ID_TAKEN)
    assert (dict(given.conversations), dict(given.known)) == snapshot
