"""Another user's ids, on every route that takes one (IDOR).

A signed-in attacker (an ordinary end user with data of their own), support
agents and privacy admins send the victim's ids where the product expects
their own. Each case states the answer (404 for "not yours", exactly like an
unknown id; 403 where the role itself is refused) and the test checks that no
row of the product changed (a refused staff attempt may add a *denied*
access-log row, nothing else) and that no secret of the victim is in the
answer.

`test_every_route_taking_an_id_has_an_idor_case` enumerates the URLconf: a new
route with a path argument and no case here fails it. Ids that travel in the
body or query string cannot be found that way; BODY_AND_QUERY_IDS lists the
routes known to take one, each with cases below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.roles import StaffRole
from retention.models import Conversation
from retention.services.conversations import conversations_delete, message_add
from staff.models import AccessLog, DataKind, Outcome
from tests.factories import UserFactory
from tests.security import test_access_matrix as matrix
from tests.security.helpers import body_text, changed_models, database_fingerprint, routes
from tests.support.helpers import (
    SECRET_COMMENT,
    SECRET_CONTENT,
    SECRET_EXCERPT,
    SECRET_TITLE,
    make_privacy_admin,
    make_support_agent,
    seed_account,
)

pytestmark = [pytest.mark.django_db, pytest.mark.security]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
SECRETS = (SECRET_CONTENT, SECRET_TITLE, SECRET_COMMENT, SECRET_EXCERPT)
TOKEN = {"Authorization": "Bearer test-ingest-token"}
ATTACKER_CONTENT = "ATTACKER-OWN-CONTENT"

# Routes that read an id from the body or the query string (not visible in
# the URL pattern), each covered by cases below.
BODY_AND_QUERY_IDS = {
    "dashboard:delete_selected": "ids (POST body)",
    "support:lookup": "account or conversation id (POST body)",
    "support:account": "?access= grant id",
    "ingest:training-run-conversations": "?cursor= (signed, bound to its run)",
}


seed = matrix.seed  # the matrix's fixture: every kind of row, owned by one account


@pytest.fixture
def world(seed):
    """The matrix's seeded victim (every kind of row, a hold, a training run)
    plus a deleted conversation awaiting purge, an attacker with data of their
    own, two support agents and a privacy admin."""
    victim = seed["owner"]
    gone = seed_account(victim, prefix="gone").get(external_id__startswith="gone-")
    conversations_delete(user=victim, conversations=Conversation.objects.filter(pk=gone.pk))
    attacker = UserFactory()
    own = message_add(
        user=attacker,
        conversation_external_id="mine-1",
        kind="chat",
        title="ATTACKER-OWN-TITLE",
        message_external_id="mine-msg-1",
        role="user",
        content=ATTACKER_CONTENT,
        sent_at=timezone.now() - timedelta(days=1),
    ).conversation
    agent, other_agent, privacy_admin = (
        make_support_agent(),
        make_support_agent(),
        make_privacy_admin(),
    )
    return SimpleNamespace(
        victim=victim,
        conversation=seed["conversation"],
        gone=gone,
        attacker=attacker,
        own=own,
        agent=agent,
        other_agent=other_agent,
        privacy_admin=privacy_admin,
        objects=seed["objects"],
        user_content_type=seed["user_content_type"],
        markers=(
            *SECRETS,
            victim.email,
            victim.external_id,
            seed["conversation"].external_id,
            gone.external_id,
        ),
    )


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _grant(staff, account, *, age: timedelta = timedelta(0)) -> AccessLog:
    """A support lookup's grant, as the console writes it."""
    return AccessLog.objects.create(
        staff=staff,
        role=StaffRole.SUPPORT_AGENT,
        account=account,
        reason="TICKET-1",
        data_kind=DataKind.METADATA,
        at=timezone.now() - age,
    )


def _reset_link_with_victim_uid(w) -> str:
    """The attacker's own valid reset token, on the victim's uid."""
    uid = urlsafe_base64_encode(force_bytes(w.victim.pk))
    token = default_token_generator.make_token(w.attacker)
    return reverse("password_reset_confirm", args=[uid, token])


def _other_runs_cursor(w) -> str:
    """A genuine cursor of another training run, which has two conversations."""
    from retention.models import TrainingRun, TrainingRunConversation

    run = TrainingRun.objects.create(external_id="run-other", name="o", started_at=timezone.now())
    for conversation in (w.own, w.conversation):
        TrainingRunConversation.objects.create(
            run=run,
            conversation=conversation,
            conversation_external_id=conversation.external_id,
            user_id=conversation.user_id,
        )
    page = Client().get(
        "/api/internal/training-runs/run-other/conversations", {"limit": 1}, headers=TOKEN
    )
    return page.json()["next"]


@dataclass(frozen=True)
class Case:
    route: str  # Route.key of the route under attack
    why: str
    actor: str  # attribute of the world: attacker, agent, other_agent, privacy_admin
    method: str
    path: Callable[[SimpleNamespace], str]
    expect: int
    data: Callable[[SimpleNamespace], dict] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    then: Callable[[SimpleNamespace, object], None] | None = None  # further checks

    @property
    def id(self) -> str:
        return f"{self.route} {self.method} {self.actor}: {self.why}"


def _conversation(w) -> str:
    return reverse("dashboard:conversation", args=[w.conversation.external_id])


def _delete(w) -> str:
    return reverse("dashboard:conversation_delete", args=[w.conversation.external_id])


def _api_delete(w) -> str:
    return reverse("dashboard:api_conversation_delete", args=[w.conversation.external_id])


def _account(w) -> str:
    return reverse("support:account", args=[w.victim.pk])


def _lookup_victim(w) -> dict:
    return {"kind": "account", "value": w.victim.external_id, "reason": "TICKET-9"}


def _victim_password_unchanged(w, response) -> None:
    w.victim.refresh_from_db()
    assert w.victim.check_password(PASSWORD)


def _invalid_reset_link(w, response) -> None:
    assert "This link no longer works" in response.content.decode()
    _victim_password_unchanged(w, response)


HX = {"HX-Request": "true"}

CASES: list[Case] = [
    # --- A policy version is public, not anyone's; dismissing its notice
    # records only the caller's own read. An unknown one is not found.
    Case(
        "dashboard:policy_notice_read",
        "an unknown policy version",
        "attacker",
        "POST",
        lambda w: reverse("dashboard:policy_notice_read", args=["no-such-version"]),
        404,
    ),
    # --- The dashboard: someone else's conversation is not found, for everyone.
    *(
        Case("dashboard:conversation", "victim's conversation", actor, "GET", _conversation, 404)
        for actor in ("attacker", "agent", "privacy_admin")
    ),
    Case(
        "dashboard:conversation",
        "as an htmx request",
        "attacker",
        "GET",
        _conversation,
        404,
        headers=HX,
    ),
    Case(
        "dashboard:conversation",
        "victim's deleted conversation",
        "attacker",
        "GET",
        lambda w: reverse("dashboard:conversation", args=[w.gone.external_id]),
        404,
    ),
    Case(
        "dashboard:conversation_delete", "victim's conversation", "attacker", "POST", _delete, 404
    ),
    Case(
        "dashboard:conversation_delete",
        "as an htmx request",
        "attacker",
        "POST",
        _delete,
        404,
        headers=HX,
    ),
    Case(
        "dashboard:conversation_delete", "as a privacy admin", "privacy_admin", "POST", _delete, 404
    ),
    Case(
        "dashboard:delete_selected",
        "only the victim's id",
        "attacker",
        "POST",
        lambda w: reverse("dashboard:delete_selected"),
        404,
        data=lambda w: {"ids": [w.conversation.external_id]},
    ),
    Case(
        "dashboard:delete_selected",
        "own id and the victim's: all or nothing, own not deleted either",
        "attacker",
        "POST",
        lambda w: reverse("dashboard:delete_selected"),
        404,
        data=lambda w: {"ids": [w.own.external_id, w.conversation.external_id]},
        headers=HX,
    ),
    Case(
        "dashboard:api_conversation_delete",
        "victim's conversation",
        "attacker",
        "DELETE",
        _api_delete,
        404,
    ),
    Case(
        "dashboard:api_conversation_delete",
        "as a support agent",
        "agent",
        "DELETE",
        _api_delete,
        404,
    ),
    # --- The support console: pages open only through one's own recent lookup.
    Case("support:account", "end user, no grant", "attacker", "GET", _account, 403),
    Case(
        "support:account",
        "end user with an agent's grant id",
        "attacker",
        "GET",
        lambda w: f"{_account(w)}?access={_grant(w.agent, w.victim).pk}",
        403,
    ),
    Case(
        "support:account",
        "another agent's grant id",
        "other_agent",
        "GET",
        lambda w: f"{_account(w)}?access={_grant(w.agent, w.victim).pk}",
        403,
    ),
    Case(
        "support:account",
        "own grant for another account",
        "agent",
        "GET",
        lambda w: f"{_account(w)}?access={_grant(w.agent, w.attacker).pk}",
        403,
    ),
    Case(
        "support:account",
        "own grant, expired",
        "agent",
        "GET",
        lambda w: f"{_account(w)}?access={_grant(w.agent, w.victim, age=timedelta(hours=2)).pk}",
        403,
    ),
    Case(
        "support:account",
        "a privacy admin with an agent's grant id",
        "privacy_admin",
        "GET",
        lambda w: f"{_account(w)}?access={_grant(w.agent, w.victim).pk}",
        403,
    ),
    Case(
        "support:lookup",
        "end user looks the victim up",
        "attacker",
        "POST",
        lambda w: reverse("support:lookup"),
        403,
        data=_lookup_victim,
    ),
    # --- Password reset: a valid token of one's own does not open another account.
    Case(
        "password_reset_confirm",
        "own token on the victim's uid",
        "attacker",
        "GET",
        _reset_link_with_victim_uid,
        200,
        then=_invalid_reset_link,
    ),
    Case(
        "password_reset_confirm",
        "own token on the victim's uid, new password posted",
        "attacker",
        "POST",
        _reset_link_with_victim_uid,
        200,
        data=lambda w: {"new_password1": "pwned pass 123!", "new_password2": "pwned pass 123!"},
        then=_invalid_reset_link,
    ),
    # --- The internal API: a session is no key to it; cursors are bound to their run.
    *(
        Case(
            "ingest:training-run-conversations",
            "session without the token",
            actor,
            "GET",
            lambda w: reverse("ingest:training-run-conversations", args=["run-m"]),
            401,
        )
        for actor in ("attacker", "agent", "privacy_admin")
    ),
    Case(
        "ingest:training-run-conversations",
        "another run's cursor",
        "anonymous",
        "GET",
        lambda w: (
            reverse("ingest:training-run-conversations", args=["run-m"])
            + f"?cursor={_other_runs_cursor(w)}"
        ),
        400,
        headers=TOKEN,
    ),
    # A confirmation names an event id: only a system's own key may confirm,
    # and only events sent to it (tests/connected/test_views.py: another
    # system's key gets 404). A session or the ingest token is no such key.
    *(
        Case(
            "connected:erasure-confirm",
            "session without a system key",
            actor,
            "POST",
            lambda w: reverse("connected:erasure-confirm", args=["evt_m"]),
            401,
        )
        for actor in ("attacker", "agent", "privacy_admin")
    ),
    Case(
        "connected:erasure-confirm",
        "the ingest token is not a system's key",
        "anonymous",
        "POST",
        lambda w: reverse("connected:erasure-confirm", args=["evt_m"]),
        401,
        headers=TOKEN,
    ),
    # --- Django admin's own routes that take an argument.
    *(
        Case(
            "admin:auth_user_password_change",
            "set the victim's password",
            actor,
            method,
            lambda w: reverse("admin:auth_user_password_change", args=[w.victim.pk]),
            403,
            data=lambda w: {"password1": "pwned pass 123!", "password2": "pwned pass 123!"},
            then=_victim_password_unchanged,
        )
        for actor in ("attacker", "agent")
        for method in ("GET", "POST")
    ),
    *(
        Case(
            "admin:view_on_site",
            "the victim's account",
            actor,
            "GET",
            lambda w: reverse("admin:view_on_site", args=[w.user_content_type, w.victim.pk]),
            403,
        )
        for actor in ("attacker", "agent")
    ),
    *(
        Case(
            "admin:app_list",
            "the retention app",
            actor,
            "GET",
            lambda w: reverse("admin:app_list", args=["retention"]),
            403,
        )
        for actor in ("attacker", "agent")
    ),
    *(
        Case("admin/(?P<url>.*)$", "any admin address", actor, "GET", lambda w: "/admin/x/y/", 403)
        for actor in ("attacker", "agent")
    ),
]


def _admin_object_cases() -> list[Case]:
    """Every registered model's object pages (change, history, delete and the
    bare "<id>/" redirect), read and posted by an end user and a support
    agent: refused (403) before any lookup, for real and missing ids alike."""
    cases = []
    for model in admin.site._registry:
        label, meta = model._meta.label, model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"

        def pk(w, label=label):
            obj = w.objects.get(label)
            return obj.pk if obj is not None else matrix.MISSING_ID

        for view in ("change", "history", "delete"):
            for actor in ("attacker", "agent"):
                for method in ("GET", "POST"):
                    cases.append(
                        Case(
                            f"{prefix}_{view}",
                            f"{label} object",
                            actor,
                            method,
                            lambda w, name=f"{prefix}_{view}", pk=pk: reverse(name, args=[pk(w)]),
                            403,
                            data=lambda w: {"post": "yes"},
                        )
                    )
        base = f"admin/{meta.app_label}/{meta.model_name}/"
        for actor in ("attacker", "agent"):
            cases.append(
                Case(
                    f"{base}<path:object_id>/",
                    f"{label} object",
                    actor,
                    "GET",
                    lambda w, base=base, pk=pk: f"/{base}{pk(w)}/",
                    403,
                )
            )
    return cases


ALL_CASES = CASES + _admin_object_cases()


def _groups() -> dict[str, list[Case]]:
    """Cases grouped by route (admin: by model), one test each: a world is
    seeded per test, and there are hundreds of admin cases."""
    groups: dict[str, list[Case]] = {}
    for case in ALL_CASES:
        key = case.route
        if key.startswith("admin:") or key.startswith("admin/"):
            key = "admin " + case.why.removesuffix(" object")
        groups.setdefault(key, []).append(case)
    return groups


GROUPS = _groups()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_another_users_id_is_refused_and_changes_nothing(group: str, world):
    # Clients and paths first: signing in stamps last_login, and some paths
    # write setup rows (a grant, a run); none of that is the attack.
    prepared = [
        (
            case,
            _client(getattr(world, case.actor, None)),
            case.path(world),
            case.data(world) if case.data else None,
        )
        for case in GROUPS[group]
    ]
    # The access log and the counter of its refusals (one row per window).
    ignore = frozenset({"staff.AccessLog", "staff.DeniedAccessWindow"})
    before = database_fingerprint(ignore=ignore)
    last_log = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for case, client, path, data in prepared:
        response = getattr(client, case.method.lower())(path, data, headers=case.headers)
        assert response.status_code == case.expect, case.id
        body = body_text(response)
        assert [marker for marker in world.markers if marker in body] == [], case.id
        if case.then:
            case.then(world, response)
    assert changed_models(before, database_fingerprint(ignore=ignore)) == []
    granted = AccessLog.objects.filter(pk__gt=last_log).exclude(outcome=Outcome.DENIED)
    assert list(granted.values_list("path", flat=True)) == [], "a refused request granted access"


def test_every_route_taking_an_id_has_an_idor_case():
    covered = {case.route for case in ALL_CASES}
    missing = sorted(
        route.key for route in routes() if route.takes_arguments and route.key not in covered
    )
    assert missing == [], "add an IDOR case to tests/security/test_idor.py for each of these"
    assert set(BODY_AND_QUERY_IDS) <= covered


def test_every_idor_case_names_a_route_that_exists():
    keys = {route.key for route in routes()}
    assert sorted({case.route for case in ALL_CASES} - keys) == []


# --- Pages without ids: nobody else's data in them -----------------------------
POST_ONLY = {"dashboard:delete_selected", "dashboard:delete_all", "dashboard:api_consent"}
# Not reads: DELETE only, and the page shown once after one's own account deletion.
NOT_READS = {"dashboard:api_account", "dashboard:account_deleted"}


def _signed_in_get_routes() -> list[str]:
    """Every dashboard page and /api/me/ read that takes no argument."""
    return sorted(
        route.name
        for route in routes()
        if route.name
        and route.name.startswith("dashboard:")
        and not route.takes_arguments
        and route.name not in POST_ONLY | NOT_READS
    )


@pytest.mark.parametrize("name", _signed_in_get_routes())
def test_pages_and_apis_show_the_signed_in_user_nothing_of_anyone_else(name, world):
    for actor in ("attacker", "agent", "privacy_admin"):
        for headers in ({}, HX):
            response = _client(getattr(world, actor)).get(reverse(name), headers=headers)
            assert response.status_code == 200
            body = body_text(response)
            assert [marker for marker in world.markers if marker in body] == [], (actor, headers)


def test_the_attackers_export_holds_their_own_data_and_nothing_else(world):
    body = body_text(_client(world.attacker).get(reverse("dashboard:api_export")))
    assert world.own.external_id in body and ATTACKER_CONTENT in body  # their own content
    assert world.victim.external_id not in body and world.conversation.external_id not in body
