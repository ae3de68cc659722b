"""The session engine with a shared cache (SESSION_ENGINE when CACHE_URL is
set): accounts.sessions' database rows, stamped with their owner, read
through the cache as Django's cached_db engine does. Ending an account's
sessions (accounts.services.sessions_end) deletes the rows and their cache
entries, so no cached copy outlives them."""

from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseStore

from accounts.models import UserSession
from accounts.sessions import owner_of

__all__ = ["KEY_PREFIX", "SessionStore"]


class SessionStore(CachedDatabaseStore):
    cache_key_prefix = KEY_PREFIX

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
