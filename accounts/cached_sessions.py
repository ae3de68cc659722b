"""The session engine with a shared cache (SESSION_ENGINE when CACHE_URL is
set): accounts.sessions' database rows, stamped with their owner, read
through the cache as Django's cached_db engine does. Ending an account's
sessions (accounts.services.sessions_end) deletes the rows and their cache
entries, so no cached copy outlives them."""

from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseStore

from accounts.sessions import OwnedSessions

__all__ = ["KEY_PREFIX", "SessionStore"]


class SessionStore(OwnedSessions, CachedDatabaseStore):
    cache_key_prefix = KEY_PREFIX
