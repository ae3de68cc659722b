"""A version of what a person's pages show, for conditional GET (ETag).

Each account has a version token in the shared cache, and there is one
global token; the services that change what the pages show replace them
after their transaction commits: a deletion, a consent change, new messages
for that account (ingest), a flag, a hold, a staff access (the account's
token), a policy-settings change, a new article version or a purge run (the
global token). A page's ETag is built from both tokens
(`data_version_for`), so a repeat visit with an unchanged version is answered
`304 Not Modified` without reading or rendering anything.

Why this is safe:
- a token is replaced, never counted up: a lost cache entry gets a fresh
  token on the next read, which can only make a page look changed (one full
  answer), never unchanged;
- tokens are replaced after the commit, and the page reads its version
  before its data: a page built from old data carries the old token, which
  no longer matches once the change is committed;
- each token begins with the time it was made, so a reader can tell that an
  account's data changed a moment ago and read it on the primary rather than
  a replica that may not have it yet (`changed_within`).

Only with a cache every process shares (CACHE_URL, e.g. Redis): with the
per-process default cache a worker's change would not reach the web
processes, so without it (`PORTAL_CONDITIONAL_GET` off) nothing is stored
and no page gets an ETag.
"""

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

_GLOBAL_KEY = "portal:dv:all"
# A token lives this long without a change; a missing one is simply remade.
_TIMEOUT = 7 * 24 * 3600


def _user_key(user_id: int) -> str:
    return f"portal:dv:u:{user_id}"


def _new_token() -> str:
    return f"{time.time_ns():x}.{secrets.token_hex(4)}"


def _made_at(token: str) -> float:
    try:
        return int(token.split(".", 1)[0], 16) / 1e9
    except ValueError:
        return 0.0


def enabled() -> bool:
    return settings.PORTAL_CONDITIONAL_GET


def data_version_bump(*, user_ids: Iterable[int]) -> None:
    """New tokens for these accounts once the current transaction commits
    (at once outside one)."""
    if not enabled():
        return
    keys = {_user_key(user_id) for user_id in user_ids if user_id is not None}
    if keys:
        transaction.on_commit(lambda: cache.set_many(dict.fromkeys(keys, _new_token()), _TIMEOUT))


def data_version_bump_all() -> None:
    """A new global token (every account's pages) once the transaction commits."""
    if enabled():
        transaction.on_commit(lambda: cache.set(_GLOBAL_KEY, _new_token(), _TIMEOUT))


@dataclass(frozen=True)
class DataVersion:
    token: str  # the account's and the global token together
    changed_at: float  # epoch seconds of the newer of the two

    def changed_within(self, seconds: float) -> bool:
        return time.time() - self.changed_at < seconds


def data_version_for(*, user_id: int) -> DataVersion | None:
    """The version of this account's pages (one cache round trip when both
    tokens exist), or None when conditional GET is off."""
    if not enabled():
        return None
    user_key = _user_key(user_id)
    found = cache.get_many([user_key, _GLOBAL_KEY])
    for key in (user_key, _GLOBAL_KEY):
        if key not in found:
            # add(): two readers racing keep one token between them.
            cache.add(key, _new_token(), _TIMEOUT)
            found[key] = cache.get(key) or _new_token()
    tokens = (found[user_key], found[_GLOBAL_KEY])
    return DataVersion(token="-".join(tokens), changed_at=max(map(_made_at, tokens)))
