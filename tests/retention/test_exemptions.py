"""The exemptions (retention.selectors.exemptions) in their two forms: the
ORM expressions the deadline rewrites and admin use, and the SQL fragments the
purge uses, answer alike for every kind of item and hold."""

import pytest
from django.db import connection

from accounts.models import User
from retention.models import Conversation, Feedback, Flag
from retention.purge import sql
from retention.selectors.exemptions import (
    hold_covers,
    hold_covers_sql,
    holds_covering,
    owner_is_commercial,
    owner_is_commercial_sql,
)
from retention.services.conversations import conversation_flag, feedback_submit
from retention.services.holds import legal_hold_place, legal_hold_release
from tests.factories import CommercialUserFactory, UserFactory, utc

pytestmark = pytest.mark.django_db

AT = utc(2026, 1, 1)


@pytest.fixture
def world(add_message):
    """Accounts with every kind of hold: none, account, one conversation,
    released; each with two conversations, flags and feedback."""
    users = {
        "free": UserFactory(),
        "account-held": UserFactory(),
        "conversation-held": UserFactory(),
        "released": UserFactory(),
        "commercial": CommercialUserFactory(),
    }
    for name, user in users.items():
        for n in (1, 2):
            add_message(user, AT, conversation=f"{name}-{n}")
            conversation = Conversation.objects.get(external_id=f"{name}-{n}")
            conversation_flag(conversation=conversation, flagged_at=AT, scores={"x": 0.5})
            feedback_submit(
                user=user,
                external_id=f"fb-{name}-{n}",
                kind="thumbs_up",
                comment="",
                excerpt="",
                submitted_at=AT,
                conversation_external_id=f"{name}-{n}",
            )
    legal_hold_place(user=users["account-held"], reason="case A", placed_by=None)
    legal_hold_place(
        user=users["conversation-held"],
        conversation=Conversation.objects.get(external_id="conversation-held-1"),
        reason="case B",
        placed_by=None,
    )
    hold = legal_hold_place(user=users["released"], reason="case C", placed_by=None)
    legal_hold_release(hold=hold, released_by=None)
    return users


def _covered_in_sql(table: str, alias: str, conversation_column: str) -> set[int]:
    predicate = hold_covers_sql(
        user_column=f"{alias}.user_id", conversation_column=f"{alias}.{conversation_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {alias}.id FROM {table} {alias} WHERE {predicate}")  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def _covered_in_orm(model, conversation_ref: str) -> set[int]:
    return set(
        model.objects.annotate(held=hold_covers(conversation_ref=conversation_ref))
        .filter(held=True)
        .values_list("pk", flat=True)
    )


def test_hold_coverage_is_the_same_in_sql_and_in_the_orm_for_every_kind_of_item(world):
    cases = [
        (Conversation, sql.CONVERSATION, "c", "external_id"),
        (Flag, sql.FLAG, "f", "conversation_external_id"),
        (Feedback, sql.FEEDBACK, "fb", "conversation_external_id"),
    ]
    for model, table, alias, column in cases:
        in_orm = _covered_in_orm(model, column)
        assert in_orm == _covered_in_sql(table, alias, column), model.__name__
        covered = set(model.objects.filter(pk__in=in_orm).values_list("user__email", flat=True))
        assert covered == {world["account-held"].email, world["conversation-held"].email}


def test_a_conversation_hold_covers_that_conversation_and_what_is_about_it_only(world):
    held = _covered_in_orm(Conversation, "external_id")
    names = set(Conversation.objects.filter(pk__in=held).values_list("external_id", flat=True))
    assert names == {"account-held-1", "account-held-2", "conversation-held-1"}
    flags = _covered_in_orm(Flag, "conversation_external_id")
    about = set(
        Flag.objects.filter(pk__in=flags).values_list("conversation_external_id", flat=True)
    )
    assert about == names
    user = world["conversation-held"]
    assert holds_covering(user_id=user.pk, conversation_external_id="conversation-held-1").exists()
    assert not holds_covering(
        user_id=user.pk, conversation_external_id="conversation-held-2"
    ).exists()
    assert not holds_covering(user_id=world["released"].pk).exists()


def test_commercial_owner_is_the_same_in_sql_and_in_the_orm(world):
    in_orm = set(Conversation.objects.filter(owner_is_commercial()).values_list("pk", flat=True))
    predicate = owner_is_commercial_sql(owner_alias="u")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id FROM {sql.CONVERSATION} c JOIN {sql.USER} u ON u.id = c.user_id "  # noqa: S608
            f"WHERE {predicate}"
        )
        in_sql = {row[0] for row in cursor.fetchall()}
    assert in_orm == in_sql
    owners = set(User.objects.filter(conversations__pk__in=in_orm).values_list("pk", flat=True))
    assert owners == {world["commercial"].pk}
