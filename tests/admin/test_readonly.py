"""Ledgers are read-only for everyone, superusers included."""

import pytest
from django.contrib import admin

from accounts.models import ConsentChange
from accounts.services import consent_record
from retention.models import DeletionReceipt, PolicySettingChange
from retention.services.policy_settings import policy_settings_update
from staff.models import AccessLog
from tests.factories import UserFactory
from tests.support.helpers import seed_receipt

pytestmark = pytest.mark.django_db

LEDGERS = [ConsentChange, DeletionReceipt, AccessLog, PolicySettingChange]


@pytest.mark.parametrize("model", LEDGERS, ids=lambda m: m.__name__)
def test_ledger_admins_grant_no_write_even_to_superusers(rf, superuser, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def _one_row_of_each(superuser):
    user = UserFactory()
    consent_record(article_version="v-test", user=user, allowed=True, source="dashboard")
    seed_receipt(user, sequence=1, conversation_external_id="gone")
    AccessLog.objects.create(role="support_agent", data_kind="metadata", account=user)
    policy_settings_update(changes={"not_shared_days": 31}, changed_by=superuser)


@pytest.mark.parametrize("model", LEDGERS, ids=lambda m: m.__name__)
def test_superuser_can_view_but_not_add_change_or_delete_ledger_rows(client, superuser, model):
    _one_row_of_each(superuser)
    client.force_login(superuser)
    obj = model.objects.first()
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{obj.pk}/change/").status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
