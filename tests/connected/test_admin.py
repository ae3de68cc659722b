"""Connected systems in Django admin: privacy admins only; the secret and key
shown once; backlog and dead letters on the list; rotate, disable, retry."""

import re

import pytest

from connected.models import ConnectedSystem, Delivery, DeliveryState
from connected.selectors import api_key_find
from tests.connected import factories as f
from tests.support.helpers import make_privacy_admin, make_support_agent

LIST = "/admin/connected/connectedsystem/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(make_privacy_admin())
    return client


def _shown(page) -> tuple[str, str]:
    secret, key = re.findall(r'<code class="connected-credential">([^<]+)</code>', page.text)
    return secret, key


def test_adding_a_system_shows_its_secret_and_key_once(admin_client):
    page = admin_client.post(
        f"{LIST}add/",
        {
            "name": "warehouse",
            "url": "https://wh.example/hooks",
            "events": ["conversation.deleted", "conversation.purged"],
            "confirms_erasure": "on",
            "scopes": ["changes", "erasures"],
        },
    )
    assert page.status_code == 200
    secret, key = _shown(page)
    system = ConnectedSystem.objects.get()
    assert secret == system.signing_secret and secret.startswith("whsec_")
    found = api_key_find(key=key)
    assert found.system == system and found.scopes == ["changes", "erasures"]
    change = admin_client.get(f"{LIST}{system.pk}/change/")
    assert change.status_code == 200
    for page in (change, admin_client.get(LIST)):
        assert secret not in page.text and key not in page.text


def test_a_bad_add_is_a_form_error_and_creates_nothing(admin_client, register):
    register("warehouse")
    page = admin_client.post(
        f"{LIST}add/", {"name": "warehouse", "url": "ftp://x", "events": ["nope"]}
    )
    assert page.status_code == 200
    assert page.context["adminform"].form.errors.keys() == {"name", "url", "events", "scopes"}
    assert ConnectedSystem.objects.count() == 1


def test_the_list_shows_backlog_oldest_pending_and_dead_letters(admin_client, register, record):
    system, _ = register("lake", url="http://127.0.0.1:9/", events=["conversation.deleted"])
    record(f.deleted("a1", "c1"), f.deleted("a1", "c2"), f.deleted("a2", "d1"))
    Delivery.objects.filter(event__subject="d1").update(state=DeliveryState.DEAD)
    page = admin_client.get(LIST)
    assert page.status_code == 200
    row = page.context["cl"].result_list.get()
    assert (row.backlog, row.dead_letters) == (2, 1)
    assert row.oldest_pending is not None
    dead = admin_client.get(
        "/admin/connected/delivery/", {"system__id__exact": system.pk, "state__exact": "dead"}
    )
    assert [d.event.subject for d in dead.context["cl"].result_list] == ["d1"]


def test_rotate_shows_the_new_secret_and_key_once(admin_client, register):
    system, old = register("lake")
    page = admin_client.post(LIST, {"action": "rotate", "_selected_action": [system.pk]})
    secret, key = _shown(page)
    assert secret != old.signing_secret and key != old.api_key
    assert api_key_find(key=key).system == system
    assert api_key_find(key=old.api_key) is not None  # until revoked
    admin_client.post(LIST, {"action": "revoke_old_keys", "_selected_action": [system.pk]})
    assert api_key_find(key=old.api_key) is None
    assert api_key_find(key=key) is not None


def test_disable_and_enable(admin_client, register):
    system, _ = register("lake")
    admin_client.post(LIST, {"action": "disable", "_selected_action": [system.pk]})
    assert not ConnectedSystem.objects.get().enabled
    admin_client.post(LIST, {"action": "enable", "_selected_action": [system.pk]})
    assert ConnectedSystem.objects.get().enabled


def test_retry_now_makes_a_dead_letter_due_again(admin_client, register, record):
    register("lake", url="http://127.0.0.1:9/", events=["conversation.deleted"])
    record(f.deleted("a1", "c1"))
    dead = Delivery.objects.get()
    Delivery.objects.filter(pk=dead.pk).update(state=DeliveryState.DEAD)
    admin_client.post(
        "/admin/connected/delivery/", {"action": "retry_now", "_selected_action": [dead.pk]}
    )
    assert Delivery.objects.get().state == DeliveryState.PENDING


def test_support_agents_get_no_connected_system_page(client, register):
    system, _ = register("lake")
    client.force_login(make_support_agent())
    for path in (LIST, f"{LIST}add/", f"{LIST}{system.pk}/change/"):
        assert client.get(path).status_code == 403


def test_editing_a_system_checks_its_url_like_the_command(admin_client, register):
    system, _ = register("lake", events=["conversation.deleted"])
    page = admin_client.post(
        f"{LIST}{system.pk}/change/",
        {"url": "ftp://lake.example/", "events": ["conversation.deleted"]},
    )
    assert page.status_code == 200
    assert "not an http(s) URL" in str(page.context["adminform"].form.errors["url"])
    saved = admin_client.post(
        f"{LIST}{system.pk}/change/",
        {"url": "https://lake.example/", "events": ["consent.changed"], "confirms_erasure": "on"},
    )
    assert saved.status_code == 302
    system.refresh_from_db()
    assert (system.url, system.events, system.confirms_erasure) == (
        "https://lake.example/",
        ["consent.changed"],
        True,
    )
