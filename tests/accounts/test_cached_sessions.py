"""Sessions through the shared cache (SESSION_ENGINE accounts.cached_sessions,
chosen when CACHE_URL is set): ending an account's sessions ends the cached
copies too, so a deleted account's browser is signed out at its next request."""

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import cache
from django.test import Client

from accounts.models import UserSession
from accounts.services import sessions_end
from tests.factories import UserFactory


@pytest.mark.django_db
def test_ending_an_accounts_sessions_drops_their_cached_copies(settings):
    settings.SESSION_ENGINE = "accounts.cached_sessions"
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert cache.get(KEY_PREFIX + key) is not None
    assert UserSession.objects.get(session_key=key).user_id == user.pk

    assert sessions_end(user_id=user.pk) == 1

    assert cache.get(KEY_PREFIX + key) is None
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
