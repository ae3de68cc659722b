"""factory_boy factories and event builders for the connected app. A system
made here has a secret but no key; tests that need a key register through
the service (`register` fixture), which is the only place a key is issued."""

from datetime import UTC, datetime

import factory

from connected import credentials, events
from connected.models import ConnectedSystem


class ConnectedSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConnectedSystem

    name = factory.Sequence(lambda n: f"system-{n}")
    url = ""
    events = factory.LazyFunction(lambda: list(events.EVENT_TYPES))
    signing_secret = factory.LazyFunction(credentials.signing_secret_new)
    created_at = datetime(2020, 1, 1, tzinfo=UTC)


AT = "2026-03-01T10:00:00Z"


def secret() -> str:
    return credentials.signing_secret_new()


def deleted(account: str, conversation: str) -> dict:
    return {
        "type": events.CONVERSATION_DELETED,
        "account": account,
        "data": {
            "account": account,
            "conversation": conversation,
            "deleted_at": AT,
            "purge_by": "2026-03-31T10:00:00Z",
        },
    }


def consent(account: str, allowed: bool = True) -> dict:
    return {
        "type": events.CONSENT_CHANGED,
        "account": account,
        "data": {"account": account, "allowed": allowed, "at": AT},
    }


def purged(account: str, conversation: str, receipt: int = 1) -> dict:
    return {
        "type": events.CONVERSATION_PURGED,
        "account": account,
        "data": {
            "account": account,
            "conversation": conversation,
            "purged_at": AT,
            "receipt": receipt,
        },
    }


def feedback_purged(account: str, feedback: str) -> dict:
    return {
        "type": events.FEEDBACK_PURGED,
        "account": account,
        "data": {"account": account, "feedback": feedback, "purged_at": AT},
    }
