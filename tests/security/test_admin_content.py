"""Hardening 1: in Django admin, content (conversation titles, message text,
feedback comment and excerpt: whatever a model declares as `content_fields`)
is read only on a change page opened with a logged reason for content.

The content oracle: for every ModelAdmin of the site and every content field
reachable from its model (found through the one declaration), every lookup
Django offers on that field, on the field itself or through relations, as a
changelist query parameter, and every ordering by it, answers 400, is
recorded as denied, and shows nothing of the content planted in the data."""

from collections import deque
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps
from django.contrib import admin
from django.db.models.functions import Upper
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from retention.admin.conversations import ConversationAdmin
from retention.models import Conversation, Feedback, Flag
from staff.checks import content_stays_behind_a_reason
from staff.content import content_config_errors, content_fields_of, content_query_refusal
from staff.models import AccessLog, DataKind, Outcome
from staff.selectors import access_log_for_user
from tests.factories import UserFactory
from tests.support.helpers import (
    SECRET_COMMENT,
    SECRET_CONTENT,
    SECRET_EXCERPT,
    SECRET_TITLE,
    make_privacy_admin,
    seed_account,
)

pytestmark = [pytest.mark.security, pytest.mark.django_db]

SECRETS = (SECRET_TITLE, SECRET_CONTENT, SECRET_COMMENT, SECRET_EXCERPT)
GUESS = "SECRET"  # what an attacker would probe with, a prefix of every secret
MAX_HOPS = 3


def _registered():
    return {
        model._meta.label: model for model in apps.get_models() if admin.site.is_registered(model)
    }


def content_paths(model) -> dict[str, tuple[str, object]]:
    """Each content field reachable from `model` within MAX_HOPS relations:
    "app.Model.field" -> (the shortest lookup path to it, the field)."""
    found: dict[str, tuple[str, object]] = {}
    seen, queue = {model}, deque([(model, "")])
    while queue:
        current, prefix = queue.popleft()
        for name in sorted(content_fields_of(current)):
            found.setdefault(
                f"{current._meta.label}.{name}", (prefix + name, current._meta.get_field(name))
            )
        if prefix.count("__") >= MAX_HOPS:
            continue
        for field in current._meta.get_fields():
            target = field.related_model if field.is_relation else None
            if target is not None and target not in seen:
                seen.add(target)
                queue.append((target, f"{prefix}{field.name}__"))
    return found


def _value(lookup: str) -> str:
    return {"isnull": "false", "in": f"{GUESS},x", "range": f"{GUESS},z"}.get(lookup, GUESS)


def oracle_probes(model) -> list[dict[str, str]]:
    probes = []
    for path, field in content_paths(model).values():
        probes.append({path: GUESS})
        probes += [{f"{path}__{lookup}": _value(lookup)} for lookup in sorted(field.get_lookups())]
        probes += [{"o": path}, {"o": f"-{path}"}, {"o": f"1.-{path}"}]
        probes.append({"_changelist_filters": f"{path}__icontains={GUESS}"})
        probes.append({"_to_field": path, "_popup": "1"})
    return probes


def test_every_content_model_declares_its_content_and_all_are_reachable():
    declared = {
        model._meta.label: content_fields_of(model)
        for model in apps.get_models()
        if content_fields_of(model)
    }
    assert declared == {
        "retention.Conversation": {"title"},
        "retention.Message": {"content"},
        "retention.Feedback": {"comment", "excerpt"},
    }
    # Every content field is reachable from the account admin, through relations.
    assert set(content_paths(apps.get_model("accounts.User"))) == {
        f"{label}.{name}" for label, names in declared.items() for name in names
    }


@pytest.fixture
def planted(db):
    owner = UserFactory()
    seed_account(owner, conversations=2)
    return owner


# The admins whose model reaches content (the others, such as the purge runs
# or the beat schedule, have no relation that leads to any).
REACHING = sorted(label for label, model in _registered().items() if content_paths(model))


def test_the_oracle_covers_every_admin_that_reaches_content():
    assert {"accounts.User", "retention.Conversation", "retention.Message"} <= set(REACHING)
    assert {"retention.Feedback", "retention.Flag", "staff.AccessLog", "auth.Group"} <= set(
        REACHING
    )


@pytest.mark.parametrize("label", REACHING)
def test_no_lookup_or_ordering_reads_content(client, planted, label):
    model = _registered()[label]
    probes = oracle_probes(model)
    staff = make_privacy_admin()
    client.force_login(staff)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for params in probes:
        response = client.get(url, params)
        assert response.status_code == 400, params
        body = response.content.decode()
        assert [secret for secret in SECRETS if secret in body] == [], params
    # One denied row for the route per window (PORTAL_DENIAL_WINDOW_MINUTES),
    # counting every probe; two when the probes straddle a window's end.
    rows = list(AccessLog.objects.filter(staff=staff, outcome=Outcome.DENIED))
    assert 1 <= len(rows) <= 2
    assert {row.data_kind for row in rows} == {DataKind.NONE}
    assert sum(row.denials.count for row in rows) == len(probes)
    assert all(row.reason.startswith("Query on content: ") for row in rows)
    assert not AccessLog.objects.filter(staff=staff, outcome=Outcome.GRANTED).exists()


def test_lists_still_filter_search_and_sort_by_metadata(admin_client, planted):
    message = planted.conversations.first().messages.get()
    for url, params in (
        ("/admin/retention/message/", {"role": "user", "o": "1.-3"}),
        ("/admin/retention/conversation/", {"kind": "chat", "o": "2", "flagged": "no"}),
        ("/admin/retention/message/", {"q": message.external_id}),
        ("/admin/retention/feedback/", {"user__plan": planted.plan, "o": "-5"}),
        ("/admin/retention/message/", {"q": GUESS}),  # exact ids only: no match
    ):
        response = admin_client.get(url, params)
        assert response.status_code == 200, (url, params)
        assert [s for s in SECRETS if s in response.content.decode()] == []
    assert not AccessLog.objects.exists()


def test_the_site_configuration_reads_no_content():
    assert content_stays_behind_a_reason() == []


def test_an_admin_that_would_sort_filter_or_search_by_content_is_refused():
    class Careless(ConversationAdmin):
        list_display = ("external_id", "title", "shouting")
        list_filter = ("messages__content",)
        search_fields = ("feedback__comment",)

        @admin.display(ordering=Upper("messages__content"))
        def shouting(self, obj):
            return ""

    careless = Careless(Conversation, admin.AdminSite(name="careless"))
    assert len(content_config_errors(careless)) == 4
    request = RequestFactory().get("/", {"o": "1"})
    assert content_query_refusal(careless, request) == "retention.Conversation.title"
    request = RequestFactory().get("/", {"o": "0.-2"})
    assert content_query_refusal(careless, request) == "retention.Message.content"
    request = RequestFactory().get("/", {"o": "0." + "9" * 5000})
    assert content_query_refusal(careless, request) is None
    request = RequestFactory().get("/", {"q": "anything"})
    assert content_query_refusal(careless, request) == "retention.Feedback.comment"


def test_a_later_content_field_is_covered_by_declaring_it(admin_client, planted):
    url = "/admin/retention/flag/"
    assert admin_client.get(url, {"conversation_external_id__startswith": "c"}).status_code == 200
    with mock.patch.object(Flag, "content_fields", ("conversation_external_id",), create=True):
        response = admin_client.get(url, {"conversation_external_id__startswith": "c"})
        assert response.status_code == 400
        assert (
            admin_client.get(
                "/admin/accounts/user/", {"flags__conversation_external_id": "c"}
            ).status_code
            == 400
        )


# Grants: exactly the kind given, by that staff member, for that account, for
# PORTAL_CONTENT_GRANT_MINUTES; each view logged and shown to the user.


def _reveal(client, url, reason="Case T-1"):
    return client.post(url, {"_reveal": "1", "reason": reason})["Location"]


def _pages(owner):
    conversation = owner.conversations.first()
    return [
        (f"/admin/retention/conversation/{conversation.pk}/change/", SECRET_TITLE),
        (f"/admin/retention/message/{conversation.messages.get().pk}/change/", SECRET_CONTENT),
        (
            f"/admin/retention/feedback/{Feedback.objects.get(user=owner).pk}/change/",
            SECRET_COMMENT,
        ),
    ]


def test_a_metadata_grant_from_the_console_does_not_open_content(client, planted):
    client.force_login(make_privacy_admin())
    lookup = client.post(
        "/support/lookup/", {"kind": "account", "value": planted.external_id, "reason": "T-9"}
    )
    assert lookup.status_code == 302
    grant = AccessLog.objects.get(data_kind=DataKind.METADATA)
    for url, secret in _pages(planted):
        page = client.get(url, {"_access": grant.pk})
        assert page.status_code == 200
        assert secret.encode() not in page.content
        assert b"Reason for viewing" in page.content
    assert AccessLog.objects.count() == 1  # nothing shown, no view logged


def test_a_content_grant_does_not_open_the_console(client, planted):
    client.force_login(make_privacy_admin())
    url, _ = _pages(planted)[1]
    location = _reveal(client, url)
    grant = AccessLog.objects.get(data_kind=DataKind.CONTENT)
    assert location.endswith(f"_access={grant.pk}")
    page = client.get(f"/support/accounts/{planted.pk}/", {"access": grant.pk})
    assert page.status_code == 403


def test_a_content_grant_expires_after_30_minutes(client, planted):
    client.force_login(make_privacy_admin())
    for url, secret in _pages(planted):
        location = _reveal(client, url)
        for minutes, shown in ((29, True), (31, False)):
            later = timezone.now() + timedelta(minutes=minutes)
            with mock.patch("staff.selectors.timezone.now", return_value=later):
                assert (secret.encode() in client.get(location).content) is shown, minutes


def test_each_view_of_content_is_logged_and_shown_to_the_user(client, planted):
    staff = make_privacy_admin()
    client.force_login(staff)
    url, secret = _pages(planted)[1]
    location = _reveal(client, url, reason="Legal case 77")
    for _ in range(3):
        assert secret.encode() in client.get(location).content
    grant = AccessLog.objects.get(grant=None)
    views = AccessLog.objects.filter(grant=grant)
    assert views.count() == 3
    assert set(views.values_list("staff", "account", "reason", "data_kind", "outcome")) == {
        (staff.pk, planted.pk, "Legal case 77", DataKind.CONTENT, Outcome.GRANTED)
    }
    assert [a.reason for a in access_log_for_user(planted)] == ["Legal case 77"] * 4
    client.force_login(planted)
    overview = client.get("/").content.decode()
    assert overview.count("Legal case 77") >= 4


def test_a_view_row_is_no_grant_and_a_grant_opens_only_its_account(client, planted):
    staff = make_privacy_admin()
    client.force_login(staff)
    url, secret = _pages(planted)[1]
    client.get(_reveal(client, url))
    view = AccessLog.objects.exclude(grant=None).get()
    assert secret.encode() not in client.get(url, {"_access": view.pk}).content
    other = UserFactory()
    seed_account(other, prefix="other")
    other_message = other.conversations.get().messages.get()
    grant = AccessLog.objects.get(grant=None)
    page = client.get(f"/admin/retention/message/{other_message.pk}/change/", {"_access": grant.pk})
    assert SECRET_CONTENT.encode() not in page.content
