"""The bulk SQL rewrite of deadlines gives exactly what the pure policy decides,
on whichever database the suite runs (SQLite locally, PostgreSQL in CI)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import AccountType
from retention.models import Conversation, Rule
from retention.policy import ConversationFacts, Durations, decide_conversation
from retention.services.deadlines import refresh_conversation_deadlines
from retention.services.holds import legal_hold_place
from retention.services.policy_settings import policy_settings_update
from tests.factories import UserFactory, utc

moments = st.datetimes(
    min_value=utc(2020, 1, 1).replace(tzinfo=None), max_value=utc(2034, 12, 31).replace(tzinfo=None)
).map(lambda d: d.replace(tzinfo=utc(2020, 1, 1).tzinfo))


class SqlMirrorsPurePolicy(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        last=moments,
        shared=st.booleans(),
        deleted=st.one_of(st.none(), moments),
        flagged=st.one_of(st.none(), moments),
        commercial=st.booleans(),
        held=st.booleans(),
        durations=st.builds(
            Durations,
            not_shared_days=st.integers(1, 400),
            shared_training_years=st.integers(1, 10),
            deleted_days=st.integers(1, 400),
            flagged_content_years=st.integers(1, 10),
        ),
    )
    def test_stored_deadlines_equal_the_pure_decision(
        self, last, shared, deleted, flagged, commercial, held, durations
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
        user = UserFactory(
            account_type=AccountType.COMMERCIAL if commercial else AccountType.CONSUMER
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
            ),
            durations,
        )
        assert conversation.rule == expected.rule
        assert conversation.retain_until == expected.content_retain_until
        assert conversation.public_rule == expected.for_user.rule
        assert conversation.public_retain_until == expected.for_user.content_retain_until


@pytest.mark.django_db
def test_29_february_plus_one_year_is_28_february_in_sql(add_message):
    user = UserFactory()
    policy_settings_update(changes={"not_shared_days": 30}, changed_by=None)
    from retention.services.conversations import conversation_flag

    message = add_message(user, utc(2024, 2, 29, 6), conversation="leap")
    conversation_flag(conversation=message.conversation, flagged_at=utc(2024, 2, 29, 6), scores={})
    policy_settings_update(changes={"flagged_content_years": 1}, changed_by=None)
    conversation = Conversation.objects.get(external_id="leap")
    assert conversation.retain_until == utc(2025, 2, 28, 6)
