"""Role x URL x method: the expected status of every page and API of the
product, for anonymous visitors, end users, support agents and privacy admins.

How to extend when a branch adds routes: add a `Row` to ROWS (by URL name, or
by path for a route without a name). `test_every_route_has_a_row` enumerates
the resolver and fails for any route without a row, so nothing ships unprobed.
Rows marked `optional=True` are for routes of other branches: they are
skipped while the route does not exist here.

Django admin pages are generated per registered model (ADMIN_MODEL_ROWS): the
privacy admin's expected status per model is written out below, not derived
from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from retention.models import (
    Feedback,
    Flag,
    LegalHold,
    Message,
    PolicyDocument,
    PolicySection,
    PolicySettingChange,
    PolicySettings,
    PurgeRun,
    PurgeStatistic,
    TrainingRun,
    TrainingRunConversation,
)

pytestmark = [pytest.mark.django_db, pytest.mark.security]

ANON, USER, AGENT, ADMIN = "anonymous", "end_user", "support_agent", "privacy_admin"
ROLES = (ANON, USER, AGENT, ADMIN)


@dataclass(frozen=True)
class Row:
    """`target` is a URL name ("support:index") or, for unnamed routes, a path.
    `args` builds the URL arguments from the seeded objects; `prepare` may
    instead build the whole path with the role's client (e.g. after a lookup)."""

    target: str
    method: str
    expect: dict[str, int]
    args: Callable[[dict], list] | None = None
    data: Callable[[dict], dict] | None = None
    prepare: Callable[[Client, str, dict], str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    optional: bool = False
    route: str | None = None  # the resolver route this row covers, when not a name
    requires: str | None = None  # a URL name (of another branch) the answer depends on

    @property
    def id(self) -> str:
        return f"{self.method} {self.target}"


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def _staff_only(admin_status: int, anon: int = 302) -> dict[str, int]:
    return {ANON: anon, USER: 403, AGENT: 403, ADMIN: admin_status}


def _console(status: int) -> dict[str, int]:
    return {ANON: 302, USER: 403, AGENT: status, ADMIN: status}


def _signed_in(status: int) -> dict[str, int]:
    return {ANON: 302, USER: status, AGENT: status, ADMIN: status}


def _api(status: int) -> dict[str, int]:
    return {ANON: 401, USER: status, AGENT: status, ADMIN: status}


def _owner_conversation(seed: dict) -> list:
    return [seed["conversation"].external_id]


def _lookup_data(seed: dict) -> dict:
    return {"kind": "account", "value": seed["owner"].external_id, "reason": "TICKET-9"}


def _account_after_lookup(client: Client, role: str, seed: dict) -> str:
    """The account page as the role reaches it: through its own lookup."""
    path = reverse("support:account", args=[seed["owner"].pk])
    if role in (AGENT, ADMIN):
        response = client.post(reverse("support:lookup"), _lookup_data(seed))
        return response["Location"]
    return f"{path}?access=1"


# --- Product pages and APIs (not generated) --------------------------------
ROWS: list[Row] = [
    Row("support:index", "GET", _console(200)),
    Row("support:index", "POST", _all(405)),
    Row("support:lookup", "POST", _console(302), data=_lookup_data),
    Row("support:lookup", "GET", _all(405)),
    Row("support:account", "GET", _console(200), prepare=_account_after_lookup),
    Row(
        "support:account",
        "GET",  # without a lookup of one's own: refused (and logged)
        {ANON: 302, USER: 403, AGENT: 403, ADMIN: 403},
        args=lambda s: [s["owner"].pk],
    ),
    Row("support:account", "POST", _all(405), args=lambda s: [s["owner"].pk]),
    Row("admin:index", "GET", _staff_only(200)),
    Row("admin:login", "GET", {ANON: 200, USER: 403, AGENT: 403, ADMIN: 302}),
    Row("admin:logout", "POST", _all(302)),
    Row("admin:password_change", "GET", _staff_only(200)),
    Row("admin:password_change_done", "GET", _staff_only(200)),
    Row("admin:jsi18n", "GET", _staff_only(200)),
    # Without the widget's parameters the autocomplete endpoint refuses.
    Row("admin:autocomplete", "GET", _staff_only(403)),
    Row(
        "admin:view_on_site",
        "GET",
        _staff_only(404),  # no portal model has a public URL
        args=lambda s: [s["user_content_type"], s["owner"].pk],
    ),
    Row("admin:app_list", "GET", _staff_only(200), args=lambda s: ["retention"]),
    Row("admin:app_list", "GET", _staff_only(404), args=lambda s: ["auth"]),
    Row(
        "/admin/no-such-page/",
        "GET",
        _staff_only(404),
        route="admin/(?P<url>.*)$",
    ),
    Row(
        "admin:auth_user_password_change",
        "GET",
        _staff_only(403),  # privacy admins cannot set passwords
        args=lambda s: [s["owner"].pk],
    ),
    # Ledgers: no write through admin for anyone.
    Row(
        "admin:staff_accesslog_delete",
        "POST",
        _staff_only(403),
        args=lambda s: [s["access_log"].pk],
        data=lambda s: {"post": "yes"},
    ),
    Row(
        "admin:accounts_consentchange_change",
        "POST",
        _staff_only(403),
        args=lambda s: [s["consent"].pk],
        data=lambda s: {},
    ),
    # Policy settings: privacy admins edit them (through the service). The
    # seed set feedback_years to 6; this is the second save of the change
    # back to 5, once previewed (PolicySettingsForm).
    Row(
        "admin:retention_policysettings_change",
        "POST",
        _staff_only(302),
        args=lambda s: [1],
        data=lambda s: {
            "not_shared_days": 30,
            "shared_training_years": 5,
            "deleted_days": 30,
            "flagged_content_years": 2,
            "flagged_scores_years": 7,
            "feedback_years": 5,
            "previewed": "feedback_years=5",
        },
    ),
    # Purge actions on the purge-run list: privacy admins only, POST only.
    Row("admin:retention_purgerun_preview", "POST", _staff_only(302)),
    Row("admin:retention_purgerun_run_now", "POST", _staff_only(200)),  # the confirmation
    Row(
        "admin:retention_purgerun_run_now",
        "POST",
        _staff_only(302),
        data=lambda s: {"confirm": "yes"},
    ),
    # The published API description: public, read-only.
    Row("openapi", "GET", _all(200)),
    Row("openapi", "POST", _all(405)),
    # The internal API authenticates by bearer token only: a session is not enough.
    Row("ingest:events", "POST", _all(401)),
    Row("ingest:training-runs", "POST", _all(401)),
    Row("ingest:training-run-conversations", "GET", _all(401), args=lambda s: ["run-m"]),
    # Connected systems' side of it: a system's key only (docs/connected-systems.md).
    Row("connected:changes", "GET", _all(401)),
    Row("connected:erasure-confirm", "POST", _all(401), args=lambda s: ["evt_m"]),
    # Sign in, out and password reset: open to everyone.
    Row("login", "GET", {ANON: 200, USER: 302, AGENT: 302, ADMIN: 302}),  # signed in: onwards
    Row("logout", "POST", _all(302)),
    Row("logout", "GET", _all(200)),  # a page with the sign-out button, not a 405
    # Time zone and language: the visitor's own cookies, open to everyone.
    Row("preferences", "GET", _all(200)),
    Row(
        "preferences",
        "POST",
        _all(400),
        data=lambda s: {"time_zone": "Not/AZone", "language": "en"},
    ),
    Row("set_language", "POST", _all(302), data=lambda s: {"language": "fr"}),
    Row("password_reset", "GET", _all(200)),
    Row("password_reset_done", "GET", _all(200)),
    Row("password_reset_confirm", "GET", _all(200), args=lambda s: ["MQ", "bad-token"]),
    Row("password_reset_complete", "GET", _all(200)),
    # The end user's dashboard: everyone signed in sees their own data only.
    Row("dashboard:overview", "GET", _signed_in(200)),
    Row("dashboard:conversations", "GET", _signed_in(200)),
    Row("dashboard:deleted", "GET", _signed_in(200)),
    Row("dashboard:feedback", "GET", _signed_in(200)),
    Row("dashboard:consent", "GET", _signed_in(200)),
    Row("dashboard:auto_delete", "GET", _signed_in(200)),
    Row("dashboard:export", "GET", _signed_in(200)),
    Row("dashboard:policy", "GET", _all(200)),  # the article is public
    # Someone else's conversation: not found, for staff too (staff use the console).
    Row("dashboard:conversation", "GET", _signed_in(404), args=_owner_conversation),
    Row("dashboard:conversation_delete", "POST", _signed_in(404), args=_owner_conversation),
    Row(
        "dashboard:delete_selected",
        "POST",
        _signed_in(404),
        data=lambda s: {"ids": [s["conversation"].external_id]},
    ),
    Row("dashboard:delete_all", "POST", _signed_in(400), data=lambda s: {"confirm": "no"}),
    Row("dashboard:consent", "POST", _signed_in(400), data=lambda s: {"allowed": "maybe"}),
    Row("dashboard:auto_delete", "POST", _signed_in(400), data=lambda s: {"after_months": "12"}),
    # Dismissing the notice of the policy version the seed's settings change
    # published: records the caller's own read only, then back to the overview.
    Row(
        "dashboard:policy_notice_read",
        "POST",
        _signed_in(302),
        args=lambda s: [PolicyDocument.objects.get(is_current=True).version],
    ),
    Row("dashboard:api_conversations", "GET", _api(200)),
    Row("dashboard:api_deleted", "GET", _api(200)),
    Row("dashboard:api_export", "GET", _api(200)),
    Row(
        "dashboard:api_consent",
        "POST",
        _api(400),
        data=lambda s: {"allowed": "yes"},  # form-encoded, not a JSON boolean
    ),
    Row("dashboard:api_conversation_delete", "DELETE", _api(404), args=_owner_conversation),
    Row("dashboard:api_auto_delete", "GET", _api(200)),
    Row(
        "dashboard:api_auto_delete",
        "POST",
        _api(400),
        data=lambda s: {"after_months": "3"},  # form-encoded, not JSON
    ),
    # Deleting one's own account: staff are told an administrator closes theirs.
    Row("dashboard:account_delete", "GET", _signed_in(200)),
    Row(
        "dashboard:account_delete",
        "POST",
        _signed_in(400),
        data=lambda s: {"email": "nobody@example.com", "confirm": "yes"},
    ),
    Row("dashboard:account_deleted", "GET", _all(302)),  # nothing deleted: to sign-in
    Row("dashboard:api_account", "DELETE", _api(400)),  # no body
]

# --- Django admin, per registered model --------------------------------------
# What a privacy admin gets on each model's pages (changelist, add, change,
# history, delete, and the legacy "<id>/" URL that redirects to change).
VIEW_ONLY = {
    "changelist": 200,
    "add": 403,
    "change": 200,
    "history": 200,
    "delete": 403,
    "redirect": 302,
}
PRIVACY_ADMIN_MODEL_PAGES: dict[str, dict[str, int]] = {
    "accounts.User": VIEW_ONLY,
    "accounts.ConsentChange": VIEW_ONLY,
    "retention.Conversation": VIEW_ONLY,
    "retention.Message": VIEW_ONLY,
    "retention.Flag": VIEW_ONLY,
    "retention.Feedback": VIEW_ONLY,
    "retention.LegalHold": VIEW_ONLY,  # placed/released by actions, never edited
    "retention.TrainingRun": VIEW_ONLY,
    "retention.TrainingRunConversation": VIEW_ONLY,
    "retention.PolicyDocument": VIEW_ONLY,
    "retention.PolicySection": VIEW_ONLY,
    "retention.PolicySettings": VIEW_ONLY,  # change page is a form (200)
    "retention.PolicySettingChange": VIEW_ONLY,
    "retention.DeletionReceipt": VIEW_ONLY,
    "retention.PurgeStatistic": VIEW_ONLY,
    "retention.PurgeRun": VIEW_ONLY,
    "ingest.IngestedEvent": VIEW_ONLY,
    "staff.AccessLog": VIEW_ONLY,
    # Registered, edited, rotated and disabled by privacy admins; never deleted.
    "connected.ConnectedSystem": {**VIEW_ONLY, "add": 200},
    "connected.Delivery": VIEW_ONLY,
    "connected.ApiKey": VIEW_ONLY,
}
# Third-party models (auth groups, beat schedules, axes): privacy admins have
# no permission. Their object pages are probed with an id that does not exist:
# Django's history and legacy redirect answer "not found" (302 to the index)
# before checking permissions.
NO_ACCESS_MISSING_OBJECT = {
    "changelist": 403,
    "add": 403,
    "change": 403,
    "history": 302,
    "delete": 403,
    "redirect": 302,
}
MISSING_ID = 987654321


def _admin_model_rows() -> list[Row]:
    rows = []
    for model in admin.site._registry:
        label = model._meta.label
        expected = PRIVACY_ADMIN_MODEL_PAGES.get(label, NO_ACCESS_MISSING_OBJECT)
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"

        def obj_args(seed, label=label):
            obj = seed["objects"].get(label)
            return [obj.pk if obj is not None else MISSING_ID]

        for view in ("changelist", "add"):
            rows.append(Row(f"{prefix}_{view}", "GET", _staff_only(expected[view])))
        for view in ("change", "history", "delete"):
            rows.append(Row(f"{prefix}_{view}", "GET", _staff_only(expected[view]), args=obj_args))
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        rows.append(
            Row(
                base + "{id}/",
                "GET",
                _staff_only(expected["redirect"]),
                args=obj_args,
                route=f"{base[1:]}<path:object_id>/",
            )
        )
    return rows


ALL_ROWS = ROWS + _admin_model_rows()


# --- Seed and clients ---------------------------------------------------------
@pytest.fixture
def seed(db):
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import ConsentChange
    from accounts.services import consent_record
    from connected.models import ApiKey, Delivery
    from connected.services import outbox_record
    from connected.services.dispatch import outbox_dispatch
    from connected.services.systems import system_register
    from ingest.models import IngestedEvent
    from retention.services.conversations import conversation_flag
    from retention.services.holds import legal_hold_place
    from retention.services.policy_settings import policy_settings_update
    from staff.models import AccessLog
    from tests.factories import UserFactory
    from tests.support.helpers import seed_account, seed_receipt

    owner = UserFactory()
    conversation = seed_account(owner).get()
    consent_record(article_version="v-test", user=owner, allowed=True, source="dashboard")
    conversation_flag(conversation=conversation, flagged_at=timezone.now(), scores={"x": 1.0})
    legal_hold_place(user=owner, reason="matrix", placed_by=None)
    run = TrainingRun.objects.create(external_id="run-m", name="m", started_at=timezone.now())
    TrainingRunConversation.objects.create(
        run=run,
        conversation=conversation,
        conversation_external_id=conversation.external_id,
        user=owner,
    )
    policy_settings_update(changes={"feedback_years": 6}, changed_by=None)
    PurgeRun.objects.create(cutoff=timezone.now())
    PurgeStatistic.objects.create(
        day=timezone.now().date(), rule="not_shared", plan="free", kind="chat"
    )
    access_log = AccessLog.objects.create(role="support_agent", data_kind="metadata", account=owner)
    system, _ = system_register(name="matrix", events=["conversation.purged"])
    with transaction.atomic():
        outbox_record(
            type="conversation.purged",
            account=owner.external_id,
            data={
                "account": owner.external_id,
                "conversation": "gone",
                "purged_at": "2026-01-01T00:00:00Z",
                "receipt": 1,
            },
        )
    outbox_dispatch()
    objects = {
        "accounts.User": owner,
        "accounts.ConsentChange": ConsentChange.objects.get(user=owner),
        "retention.Conversation": conversation,
        "retention.Message": Message.objects.get(conversation=conversation),
        "retention.Flag": Flag.objects.get(),
        "retention.Feedback": Feedback.objects.get(),
        "retention.LegalHold": LegalHold.objects.get(),
        "retention.TrainingRun": run,
        "retention.TrainingRunConversation": TrainingRunConversation.objects.get(),
        "retention.PolicyDocument": PolicyDocument.objects.first(),
        "retention.PolicySection": PolicySection.objects.first(),
        "retention.PolicySettings": PolicySettings.objects.get(pk=1),
        "retention.PolicySettingChange": PolicySettingChange.objects.get(),
        "retention.DeletionReceipt": seed_receipt(
            owner, sequence=1, conversation_external_id="gone"
        ),
        "retention.PurgeStatistic": PurgeStatistic.objects.get(),
        "retention.PurgeRun": PurgeRun.objects.get(),
        "ingest.IngestedEvent": IngestedEvent.objects.create(event_id="ev-m", type="message"),
        "staff.AccessLog": access_log,
        "connected.ConnectedSystem": system,
        "connected.Delivery": Delivery.objects.get(),
        "connected.ApiKey": ApiKey.objects.get(),
    }
    assert set(objects) == set(PRIVACY_ADMIN_MODEL_PAGES)
    return {
        "owner": owner,
        "conversation": conversation,
        "consent": objects["accounts.ConsentChange"],
        "access_log": access_log,
        "objects": objects,
        "user_content_type": ContentType.objects.get_for_model(owner).pk,
    }


def _client_for(role: str) -> Client:
    from tests.factories import UserFactory
    from tests.support.helpers import make_privacy_admin, make_support_agent

    client = Client()
    user = {
        ANON: lambda: None,
        USER: UserFactory,
        AGENT: make_support_agent,
        ADMIN: make_privacy_admin,
    }[role]()
    if user is not None:
        client.force_login(user)
    return client


def _route_exists(row: Row) -> bool:
    if row.target.startswith("/"):
        try:
            resolve(row.target.replace("{id}", "1"))
        except Resolver404:
            return False
        return True
    return row.target in {name for _, name in _routes()}


def _path(row: Row, seed: dict, client: Client, role: str) -> str:
    if row.prepare is not None:
        return row.prepare(client, role, seed)
    args = row.args(seed) if row.args else None
    if row.target.startswith("/"):
        return row.target.replace("{id}", str(args[0])) if args else row.target
    return reverse(row.target, args=args)


@pytest.mark.parametrize("row", ALL_ROWS, ids=lambda row: row.id)
def test_role_url_method_matrix(row: Row, seed):
    if row.optional and not _route_exists(row):
        pytest.skip(f"{row.target} is not on this branch")
    if row.requires and not _route_exists(Row(row.requires, "GET", {})):
        pytest.skip(f"needs the {row.requires!r} route, not on this branch")
    got = {}
    for role in ROLES:
        client = _client_for(role)
        path = _path(row, seed, client, role)
        data = row.data(seed) if row.data else None
        send = getattr(client, row.method.lower())
        got[role] = send(path, data, headers=row.headers).status_code
    assert got == row.expect


# --- Every route has a row ------------------------------------------------------
def _routes(patterns=None, prefix: str = "", namespace: str | None = None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def test_every_route_has_a_row():
    covered = {row.target for row in ALL_ROWS} | {row.route for row in ALL_ROWS if row.route}
    missing = [
        (route, name)
        for route, name in _routes()
        if (name or route) not in covered and route not in covered
    ]
    assert missing == [], "add a Row to tests/security/test_access_matrix.py for each of these"
