"""Editing the policy durations in admin goes through the service: recorded
and every stored deadline recomputed."""

from datetime import timedelta

import pytest

from retention.models import Conversation, PolicySettingChange, PolicySettings
from retention.selectors.settings import DURATION_FIELDS
from tests.factories import UserFactory
from tests.support.helpers import seed_account

pytestmark = pytest.mark.django_db
URL = "/admin/retention/policysettings/1/change/"


def _form(**overrides):
    row = PolicySettings.objects.get(pk=1)
    form = {name: overrides.pop(name, getattr(row, name)) for name in DURATION_FIELDS}
    return {**form, **overrides}


def test_changing_a_duration_records_it_and_recomputes_deadlines(admin_client, privacy_admin):
    owner = UserFactory()
    seed_account(owner)
    conversation = Conversation.objects.get(user=owner)
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=30)

    # The first save only previews (nothing due at once: 45 days from a fresh chat).
    preview = admin_client.post(URL, _form(not_shared_days=45))
    assert preview.status_code == 200
    assert b"This change moves 1 deadlines, and 0 items become due at once." in preview.content
    assert not PolicySettingChange.objects.exists()
    response = admin_client.post(URL, _form(not_shared_days=45, previewed="not_shared_days=45"))
    assert response.status_code == 302

    change = PolicySettingChange.objects.get()
    assert (change.field, change.old_value, change.new_value, change.changed_by) == (
        "not_shared_days",
        30,
        45,
        privacy_admin,
    )
    conversation.refresh_from_db()
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=45)
    assert conversation.public_retain_until == conversation.retain_until
    page = admin_client.get(URL)
    assert b"not_shared_days" in page.content  # the history on the page


def test_saving_unchanged_values_records_nothing(admin_client):
    assert admin_client.post(URL, _form()).status_code == 302
    assert not PolicySettingChange.objects.exists()


@pytest.mark.parametrize("bad", [0, -3, 36601, "ten"])
def test_bad_durations_are_form_errors_and_change_nothing(admin_client, bad):
    response = admin_client.post(URL, _form(deleted_days=bad))
    assert response.status_code == 200
    assert b"errornote" in response.content
    assert PolicySettings.objects.get(pk=1).deleted_days == 30
    assert not PolicySettingChange.objects.exists()


def test_settings_cannot_be_added_or_deleted(admin_client, superuser, client):
    assert admin_client.get("/admin/retention/policysettings/add/").status_code == 403
    client.force_login(superuser)
    assert (
        client.post("/admin/retention/policysettings/1/delete/", {"post": "yes"}).status_code == 403
    )
