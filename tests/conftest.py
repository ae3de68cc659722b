"""Fixtures shared by the whole suite."""

import itertools

import pytest

from retention.services.conversations import message_add
from tests.factories import UserFactory

_ids = itertools.count(1)


@pytest.fixture
def consumer(db):
    return UserFactory()


@pytest.fixture
def add_message():
    """Add a message through the real service; ids are made up when omitted."""

    def _add(user, at, *, conversation="c1", kind="chat", title="A chat", content="hello"):
        return message_add(
            user=user,
            conversation_external_id=conversation,
            kind=kind,
            title=title,
            message_external_id=f"m{next(_ids)}",
            role="user",
            content=content,
            sent_at=at,
        )

    return _add
