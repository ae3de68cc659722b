"""Services record facts and rewrite exactly the deadlines the rules give."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.services import consent_record
from retention.models import Conversation, Feedback, Flag, Message, PolicySettingChange, Rule
from retention.services.conversations import (
    ConversationPurged,
    MessageRefused,
    NewMessage,
    Refusal,
    conversation_flag,
    conversations_delete,
    feedback_submit,
    messages_add_many,
)
from retention.services.holds import HoldError, legal_hold_place, legal_hold_release
from retention.services.policy_settings import SettingsError, policy_settings_update
from retention.services.training import TrainingRunConflict, training_run_register
from tests.factories import CommercialUserFactory, StaffFactory, UserFactory, utc

pytestmark = pytest.mark.django_db


def conversation(external_id="c1") -> Conversation:
    return Conversation.objects.get(external_id=external_id)


def test_first_message_creates_and_a_later_one_resumes(consumer, add_message):
    add_message(consumer, utc(2026, 1, 1, 10))
    add_message(consumer, utc(2026, 1, 3, 9))
    c = conversation()
    assert c.created_at == utc(2026, 1, 1, 10)
    assert c.last_activity_at == utc(2026, 1, 3, 9)
    assert (c.rule, c.retain_until) == (Rule.NOT_SHARED, utc(2026, 2, 2, 9))
    assert c.messages.count() == 2


def test_an_older_message_does_not_move_activity_back(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3, 9))
    add_message(consumer, utc(2026, 1, 2))
    assert conversation().last_activity_at == utc(2026, 1, 3, 9)
    assert conversation().created_at == utc(2026, 1, 2)


def test_only_new_or_resumed_activity_picks_up_consent(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3))
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=True,
        source="import",
        effective_at=utc(2026, 1, 5),
    )
    assert conversation().rule == Rule.NOT_SHARED  # flipping consent rewrote nothing
    add_message(consumer, utc(2026, 1, 10))
    assert (conversation().rule, conversation().retain_until) == (
        Rule.SHARED_TRAINING,
        utc(2031, 1, 10),
    )
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=False,
        source="import",
        effective_at=utc(2026, 3, 1),
    )
    assert conversation().retain_until == utc(2031, 1, 10)


def test_deleting_hides_at_once_and_caps_at_30_days(consumer, add_message):
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=True,
        source="import",
        effective_at=utc(2026, 1, 1),
    )
    add_message(consumer, utc(2026, 1, 10))
    assert (
        conversations_delete(
            user=consumer, conversations=Conversation.objects.all(), deleted_at=utc(2026, 3, 2)
        )
        == 1
    )
    c = conversation()
    assert (c.rule, c.retain_until) == (Rule.DELETED, utc(2026, 4, 1))
    # Deleting again changes nothing, including the deletion time.
    assert conversations_delete(user=consumer, conversations=Conversation.objects.all()) == 0
    assert conversation().deleted_at == utc(2026, 3, 2)


def test_a_user_cannot_delete_someone_elses_conversation(consumer, add_message):
    add_message(consumer, utc(2026, 1, 10))
    other = UserFactory()
    assert conversations_delete(user=other, conversations=Conversation.objects.all()) == 0
    assert conversation().deleted_at is None


def test_flagged_then_deleted_keeps_content_two_years_and_scores_seven(consumer, add_message):
    message = add_message(consumer, utc(2026, 3, 1))
    conversation_flag(
        conversation=message.conversation, flagged_at=utc(2026, 3, 5), scores={"v": 0.9}
    )
    conversations_delete(
        user=consumer, conversations=Conversation.objects.all(), deleted_at=utc(2026, 3, 6)
    )
    c = conversation()
    assert (c.rule, c.retain_until) == (Rule.FLAGGED, utc(2028, 3, 5))
    assert Flag.objects.get().scores_retain_until == utc(2033, 3, 5)


def test_feedback_keeps_its_own_copy_for_five_years(consumer, add_message):
    add_message(consumer, utc(2026, 1, 1))
    fb = feedback_submit(
        user=consumer,
        external_id="f1",
        kind="thumbs_down",
        comment="wrong",
        excerpt="the answer",
        submitted_at=utc(2026, 1, 2),
        conversation_external_id="c1",
    )
    assert fb.retain_until == utc(2031, 1, 2)
    assert fb.conversation == conversation()


def test_a_hold_stops_the_clock_and_release_restores_it(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3, 9))
    staff = StaffFactory()
    hold = legal_hold_place(user=consumer, reason="subpoena 17", placed_by=staff)
    c = conversation()
    assert (c.rule, c.retain_until) == (Rule.LEGAL_HOLD, None)
    assert (c.public_rule, c.public_retain_until) == (Rule.NOT_SHARED, utc(2026, 2, 2, 9))
    legal_hold_release(hold=hold, released_by=staff)
    assert (conversation().rule, conversation().retain_until) == (
        Rule.NOT_SHARED,
        utc(2026, 2, 2, 9),
    )
    with pytest.raises(HoldError):
        legal_hold_release(hold=hold, released_by=staff)


def test_a_conversation_hold_covers_only_that_conversation(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3), conversation="held")
    add_message(consumer, utc(2026, 1, 3), conversation="free")
    legal_hold_place(
        user=consumer, conversation=conversation("held"), reason="case", placed_by=None
    )
    assert conversation("held").retain_until is None
    assert conversation("free").retain_until == utc(2026, 2, 2)


def test_a_hold_needs_a_reason(consumer):
    with pytest.raises(HoldError):
        legal_hold_place(user=consumer, reason="  ", placed_by=None)


def test_commercial_accounts_are_never_given_a_deadline(add_message):
    user = CommercialUserFactory()
    add_message(user, utc(2026, 1, 3))
    assert (conversation().rule, conversation().retain_until) == (Rule.COMMERCIAL, None)


def test_a_settings_change_is_recorded_and_rewrites_every_deadline(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3))
    admin = StaffFactory()
    policy_settings_update(changes={"not_shared_days": 14}, changed_by=admin)
    assert conversation().retain_until == utc(2026, 1, 17)
    change = PolicySettingChange.objects.get()
    assert (change.field, change.old_value, change.new_value, change.changed_by) == (
        "not_shared_days",
        30,
        14,
        admin,
    )


@pytest.mark.parametrize("changes", [{"nope": 3}, {"not_shared_days": 0}, {"feedback_years": "5"}])
def test_bad_settings_are_refused_whole(changes):
    with pytest.raises(SettingsError):
        policy_settings_update(changes=changes, changed_by=None)
    assert not PolicySettingChange.objects.exists()


def test_a_purged_conversation_cannot_be_revived_by_a_late_message(consumer, add_message):
    from retention.models import DeletionReceipt

    DeletionReceipt.objects.create(
        sequence=1,
        user=consumer,
        conversation_external_id="gone",
        kind="chat",
        rule="deleted",
        retain_until=utc(2026, 1, 1),
        purged_at=utc(2026, 1, 2),
        messages_removed=1,
        previous_hash="0" * 64,
        receipt_hash="a" * 64,
    )
    with pytest.raises(ConversationPurged):
        add_message(consumer, utc(2026, 1, 5), conversation="gone")


def _new(user, at, *, conversation, message_id, title="", content="hello") -> NewMessage:
    return NewMessage(
        user_id=user.pk,
        conversation_external_id=conversation,
        kind="chat",
        title=title,
        message_external_id=message_id,
        role="user",
        content=content,
        sent_at=at,
    )


def test_messages_add_many_writes_what_the_plan_decided(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3), conversation="resumed", title="Old title")
    add_message(consumer, utc(2026, 1, 3), conversation="older", title="Kept")
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=True,
        source="import",
        effective_at=utc(2026, 1, 5),
    )
    messages = [
        _new(consumer, utc(2026, 1, 10), conversation="resumed", message_id="r", title="New"),
        _new(consumer, utc(2026, 1, 1), conversation="older", message_id="o", title="Ignored"),
        _new(consumer, utc(2026, 1, 2), conversation="fresh", message_id="f1", title="Fresh"),
        _new(consumer, utc(2026, 1, 6), conversation="fresh", message_id="f2"),
    ]
    stored = messages_add_many(messages=messages)
    assert [(m.external_id, m.conversation.external_id) for m in stored] == [
        ("r", "resumed"),
        ("o", "older"),
        ("f1", "fresh"),
        ("f2", "fresh"),
    ]
    rows = {
        c.external_id: (
            c.title,
            c.created_at,
            c.last_activity_at,
            c.shared_for_training,
            c.rule,
            c.retain_until,
        )
        for c in Conversation.objects.all()
    }
    assert rows == {
        "resumed": (
            "New",
            utc(2026, 1, 3),
            utc(2026, 1, 10),
            True,
            Rule.SHARED_TRAINING,
            utc(2031, 1, 10),
        ),
        "older": (
            "Kept",
            utc(2026, 1, 1),
            utc(2026, 1, 3),
            False,
            Rule.NOT_SHARED,
            utc(2026, 2, 2),
        ),
        "fresh": (
            "Fresh",
            utc(2026, 1, 2),
            utc(2026, 1, 6),
            True,
            Rule.SHARED_TRAINING,
            utc(2031, 1, 6),
        ),
    }
    # Sent again: a redelivery, nothing more is stored.
    assert messages_add_many(messages=messages) == []
    assert Message.objects.count() == 6


def test_messages_add_many_writes_nothing_when_a_later_message_is_refused(consumer, add_message):
    add_message(consumer, utc(2026, 1, 3), conversation="mine")
    add_message(UserFactory(), utc(2026, 1, 3), conversation="theirs")
    before = list(Conversation.objects.order_by("pk").values())
    messages = [
        _new(consumer, utc(2026, 1, 10), conversation="mine", message_id="a"),
        _new(consumer, utc(2026, 1, 10), conversation="new", message_id="b"),
        _new(consumer, utc(2026, 1, 10), conversation="theirs", message_id="c"),
    ]
    with pytest.raises(MessageRefused) as refused:
        messages_add_many(messages=messages)
    assert (refused.value.index, refused.value.refusal) == (2, Refusal.ANOTHER_ACCOUNT)
    assert list(Conversation.objects.order_by("pk").values()) == before
    assert Message.objects.count() == 2


def test_training_run_records_eligible_conversations_once(add_message):
    allowed, refused, commercial = UserFactory(), UserFactory(), CommercialUserFactory()
    for user in (allowed, refused, commercial):
        consent_record(
            article_version="v-test",
            user=user,
            allowed=True,
            source="import",
            effective_at=utc(2026, 1, 1),
        )
        add_message(user, utc(2026, 1, 2), conversation=f"c-{user.pk}")
    add_message(allowed, utc(2026, 1, 2), conversation="deleted-one")
    conversations_delete(
        user=allowed,
        conversations=Conversation.objects.filter(external_id="deleted-one"),
        deleted_at=utc(2026, 1, 3),
    )
    consent_record(
        article_version="v-test",
        user=refused,
        allowed=False,
        source="dashboard",
        effective_at=utc(2026, 1, 4),
    )

    run, created = training_run_register(external_id="r1", name="Run 1", started_at=utc(2026, 1, 5))
    assert created
    assert list(run.uses.values_list("conversation_external_id", flat=True)) == [f"c-{allowed.pk}"]
    again, created = training_run_register(
        external_id="r1", name="Run 1", started_at=utc(2026, 1, 5)
    )
    assert (again, created, again.uses.count()) == (run, False, 1)
    with pytest.raises(TrainingRunConflict):
        training_run_register(external_id="r1", name="Other", started_at=utc(2026, 1, 5))


def test_the_consent_ledger_refuses_updates_even_in_raw_sql(consumer):
    entry = consent_record(
        article_version="v-test", user=consumer, allowed=True, source="dashboard"
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_consentchange SET allowed = %s WHERE id = %s", [False, entry.pk]
        )
    entry.refresh_from_db()
    assert entry.allowed is True


def test_feedback_is_unique_per_external_id(consumer):
    feedback_submit(
        user=consumer,
        external_id="f",
        kind="bug_report",
        comment="",
        excerpt="",
        submitted_at=utc(2026, 1, 1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(
            user=consumer,
            external_id="f",
            kind="bug_report",
            submitted_at=utc(2026, 1, 1),
            public_retain_until=utc(2026, 1, 1),
        )
