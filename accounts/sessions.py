"""The session engine (SESSION_ENGINE = "accounts.sessions"): Django's
database sessions, each row stamped with the signed-in account's id, so
`accounts.services.sessions_end` ends every session of an account, on every
device, with one indexed query. A session of nobody (before sign-in) has no
id; signing in cycles the key, which writes the row again with it."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

from accounts.models import UserSession


def owner_of(data: dict) -> int | None:
    try:
        return int(data.get(SESSION_KEY))
    except (TypeError, ValueError):
        return None


class OwnedSessions:
    """Mixed into a database-backed session store: rows of UserSession,
    stamped with their owner (accounts.cached_sessions uses it too)."""

    @classmethod
    def get_model_class(cls):
        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = owner_of(data)
        return session

    async def acreate_model_instance(self, data):
        session = await super().acreate_model_instance(data)
        session.user_id = owner_of(data)
        return session


class SessionStore(OwnedSessions, DatabaseStore):
    pass
