"""The signed-in user from the cache: Django's ModelBackend, except that
get_user (asked on every request that touches request.user) reads the
account from the shared cache for PORTAL_USER_CACHE_SECONDS instead of one
query per request.

Everything Django checks still runs on the cached copy: the session's
password hash (a changed password signs the other sessions out), is_active
(ModelBackend.user_can_authenticate). Any save or delete of the account
through the ORM drops the cached copy at once (`forget_user`, connected in
accounts/apps.py, as django.contrib.sites clears its cache); the setting
bounds how long a change made around the ORM (raw SQL) could go unseen.
With PORTAL_USER_CACHE_SECONDS = 0 (the default without CACHE_URL) this is
ModelBackend.
"""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

from accounts.models import User


def _key(user_id) -> str:
    return f"portal:user:{user_id}"


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        seconds = settings.PORTAL_USER_CACHE_SECONDS
        if seconds <= 0:
            return super().get_user(user_id)
        key = _key(user_id)
        user = cache.get(key)
        if user is None:
            try:
                user = User._default_manager.get(pk=user_id)
            except User.DoesNotExist:
                return None
            cache.set(key, user, seconds)
        return user if self.user_can_authenticate(user) else None


def forget_user(sender, instance: User, **kwargs) -> None:
    """post_save / post_delete of an account: its cached copy is stale."""
    users_forget(user_ids=[instance.pk])


def users_forget(*, user_ids) -> None:
    """Drop the cached copies of these accounts: for writes that send no
    signal (QuerySet.update, bulk_update). Once now and again after the
    commit, so a request that read the old row before the commit cannot
    leave it cached."""
    keys = [_key(user_id) for user_id in user_ids]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))
