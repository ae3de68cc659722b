"""The internal API over HTTP: authentication, body limits, the error format,
validation of every field, training-run registration and paging."""

import json

import pytest
from django.db import IntegrityError

from accounts.models import User
from ingest import services
from ingest.models import IngestedEvent
from retention.models import Conversation, Message, Rule, TrainingRun
from tests.factories import utc
from tests.ingest import builders as b


def _errors(response) -> list[dict]:
    return response.json()["errors"]


# --- authentication -----------------------------------------------------------


def test_right_token_is_accepted(api):
    response = api.events([b.account_upserted()])
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer wrong-token"}, "invalid token"),
        ({"Authorization": "Bearer test-ingest-token-and-more"}, "invalid token"),
        ({"Authorization": "Basic test-ingest-token"}, "missing bearer token"),
        ({"Authorization": "Bearer "}, "missing bearer token"),
        ({"Authorization": "Bearer tökén"}, "invalid token"),
    ],
    ids=["missing", "wrong", "prefix-extended", "other-scheme", "empty", "non-ascii"],
)
def test_without_the_right_token_the_request_is_refused(client, db, headers, message):
    response = client.post(
        "/api/internal/events",
        json.dumps({"events": [b.account_upserted()]}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert message in _errors(response)[0]["error"]
    assert not User.objects.exists()


def test_unconfigured_token_refuses_every_request_even_an_empty_bearer(api, settings):
    settings.PORTAL_INGEST_TOKEN = ""
    for token in ("", "test-ingest-token"):
        response = api.events([b.account_upserted()], token=token)
        assert response.status_code == 401
        assert "PORTAL_INGEST_TOKEN is not configured" in _errors(response)[0]["error"]
    assert not User.objects.exists()


def test_every_endpoint_requires_the_token(api):
    assert api.post("training-runs", {}, token="nope").status_code == 401
    assert api.get("training-runs/r1/conversations", token=None).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "events"),
        ("put", "events"),
        ("get", "training-runs"),
        ("post", "training-runs/r/conversations"),
    ],
)
def test_wrong_method_is_a_json_405(client, db, method, path):
    response = getattr(client, method)(
        f"/api/internal/{path}", headers={"Authorization": "Bearer test-ingest-token"}
    )
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert "not allowed" in _errors(response)[0]["error"]
    assert response["Allow"]


# --- the body -----------------------------------------------------------------


def test_oversized_body_is_refused_with_413_before_parsing(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    events = [b.message_added("2026-01-02T00:00:00Z", content="x" * 2000)]
    response = api.events(events)
    assert response.status_code == 413
    assert "larger than 1000 bytes" in _errors(response)[0]["error"]
    assert not IngestedEvent.objects.exists()


def test_body_just_under_the_limit_is_read(api, settings):
    body = json.dumps({"events": [b.account_upserted()]}).encode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    assert api.post("events", None, raw=body).status_code == 200


def test_more_than_1000_events_are_refused_and_none_applied(api):
    events = [b.account_upserted(f"acct-{i}") for i in range(1001)]
    response = api.events(events)
    assert response.status_code == 400
    assert _errors(response) == [
        {
            "index": None,
            "field": "events",
            "error": "at most 1000 events per request, got 1001; split the batch",
        }
    ]
    assert not User.objects.exists()


def test_exactly_1000_events_are_accepted(api):
    events = [b.account_upserted(f"acct-{i}") for i in range(1000)]
    response = api.events(events)
    assert response.json() == {"accepted": 1000, "duplicates": 0}


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b'{"events": [', None, "not valid JSON"),
        (b"\xff\xfe\x00garbage", None, "not valid JSON"),
        (b'{"events": [{"x": NaN}]}', None, "NaN is not valid JSON"),
        (b"[" * 100_000, None, "not valid JSON"),
        (b"[]", "events", 'must be an object {"events": [...]}'),
        (b'{"event": []}', "events", 'must be an object {"events": [...]}'),
        (b'{"events": {"id": "e1"}}', "events", "must be a list of events"),
        (b'{"events": "e1"}', "events", "must be a list of events"),
    ],
    ids=["truncated", "not-utf8", "nan", "deep-nesting", "array", "no-events", "object", "string"],
)
def test_malformed_body_is_a_400_not_a_500(api, raw, field, message):
    response = api.post("events", None, raw=raw)
    assert response.status_code == 400
    [error] = _errors(response)
    assert error["index"] is None
    assert error["field"] == field
    assert message in error["error"]


# --- validation of events: one case per kind of error -----------------------------


def _without(event: dict, *path: str) -> dict:
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def _with(event: dict, value, *path: str) -> dict:
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


AT = "2026-01-02T00:00:00Z"
INVALID_EVENTS = {
    "not-an-object": ("just a string", None, "must be an object"),
    "missing-type": (_without(b.consent_changed(True, AT), "type"), "type", "required"),
    "unknown-type": (
        _with(b.consent_changed(True, AT), "account.deleted", "type"),
        "type",
        "unknown event type",
    ),
    "missing-id": (_without(b.consent_changed(True, AT), "id"), "id", "required"),
    "empty-id": (_with(b.consent_changed(True, AT), "", "id"), "id", "at least 1 character"),
    "numeric-id": (_with(b.consent_changed(True, AT), 7, "id"), "id", "valid string"),
    "long-id": (_with(b.consent_changed(True, AT), "e" * 201, "id"), "id", "at most 200"),
    "missing-at": (_without(b.consent_changed(True, AT), "at"), "at", "required"),
    "naive-at": (b.consent_changed(True, "2026-01-02T00:00:00"), "at", "with a time zone"),
    "unparsable-at": (b.consent_changed(True, "yesterday"), "at", "datetime"),
    "future-at": (b.consent_changed(True, "2999-01-01T00:00:00Z"), "at", "future"),
    "ancient-at": (b.consent_changed(True, "1900-01-01T00:00:00Z"), "at", "before 1970"),
    "allowed-as-string": (
        _with(b.consent_changed(True, AT), "true", "allowed"),
        "allowed",
        "boolean",
    ),
    "allowed-as-number": (_with(b.consent_changed(True, AT), 1, "allowed"), "allowed", "boolean"),
    "account-as-number": (_with(b.consent_changed(True, AT), 12, "account"), "account", "string"),
    "account-object-missing": (_without(b.account_upserted(), "account"), "account", "required"),
    "account-email": (
        _with(b.account_upserted(), "not-an-email", "account", "email"),
        "account.email",
        "valid email",
    ),
    "account-type": (
        _with(b.account_upserted(), "business", "account", "type"),
        "account.type",
        "'consumer' or 'commercial'",
    ),
    "plan-of-other-type": (
        b.account_upserted(type="consumer", plan="team"),
        "account.plan",
        "not a consumer plan",
    ),
    "unknown-plan": (b.account_upserted(plan="gold"), "account.plan", "Input should be"),
    "message-missing": (_without(b.message_added(AT), "message"), "message", "required"),
    "message-role": (b.message_added(AT, role="system"), "message.role", "'user' or 'assistant'"),
    "message-content-type": (
        _with(b.message_added(AT), ["hi"], "message", "content"),
        "message.content",
        "string",
    ),
    "message-content-nul": (b.message_added(AT, content="a\x00b"), "message.content", "NUL"),
    "message-content-surrogate": (
        b.message_added(AT, content="a\ud800b"),
        "message.content",
        "lone surrogates",
    ),
    "conversation-kind": (
        b.message_added(AT, kind="voice"),
        "conversation.kind",
        "'chat' or 'coding_session'",
    ),
    "conversation-as-string": (
        _with(b.message_added(AT), "conv-1", "conversation"),
        "conversation",
        "must be an object",
    ),
    "title-too-long": (b.message_added(AT, title="t" * 501), "conversation.title", "at most 500"),
    # A conversation id is a segment of the user's links: "/" would make one
    # the user could not open.
    "conversation-id-slash": (
        b.message_added(AT, conversation="team/conv-1"),
        "conversation.id",
        "must be an id the portal's pages can open",
    ),
    "deleted-conversation-slash": (
        b.conversation_deleted(AT, conversation="a/b"),
        "conversation",
        "must be an id the portal's pages can open",
    ),
    "flagged-conversation-slash": (
        b.conversation_flagged(AT, conversation="a/b"),
        "conversation",
        "must be an id the portal's pages can open",
    ),
    "feedback-conversation-slash": (
        b.feedback_submitted(AT, conversation="a/b"),
        "feedback.conversation",
        "must be an id the portal's pages can open",
    ),
    # Every id a page could not open, refused at the door (one validator,
    # accounts.external_ids, for ingest, pages, API, console and admin).
    **{
        f"conversation-id-{name}": (
            b.message_added(AT, conversation=bad),
            "conversation.id",
            "must be an id the portal's pages can open",
        )
        for name, bad in {
            "space": "my chat",
            "accent": "café",
            "percent": "50%off",
            "question-mark": "why?",
            "dot": ".",
            "dot-dot": "..",
        }.items()
    },
    "account-id-space": (
        b.message_added(AT, account="acct 1"),
        "account",
        "must be an id the portal's pages can open",
    ),
    "score-above-1": (
        b.conversation_flagged(AT, scores={"violence": 1.01}),
        "scores.violence",
        "less than or equal to 1",
    ),
    "score-below-0": (
        b.conversation_flagged(AT, scores={"violence": -0.1}),
        "scores.violence",
        "greater than or equal to 0",
    ),
    "score-as-bool": (
        b.conversation_flagged(AT, scores={"violence": True}),
        "scores.violence",
        "valid number",
    ),
    "score-as-string": (
        b.conversation_flagged(AT, scores={"violence": "0.5"}),
        "scores.violence",
        "valid number",
    ),
    "scores-empty": (b.conversation_flagged(AT, scores={}), "scores", "at least 1 item"),
    "scores-list": (b.conversation_flagged(AT, scores=[0.5]), "scores", "must be an object"),
    "feedback-kind": (b.feedback_submitted(AT, kind="meh"), "feedback.kind", "thumbs_up"),
    "feedback-conversation-type": (
        b.feedback_submitted(AT, conversation=5),
        "feedback.conversation",
        "string",
    ),
}


@pytest.mark.parametrize(
    ("event", "field", "message"), INVALID_EVENTS.values(), ids=INVALID_EVENTS.keys()
)
def test_each_invalid_event_is_reported_with_its_index_and_field(api, event, field, message):
    valid = [b.account_upserted(), b.message_added("2026-01-01T10:00:00Z")]
    response = api.events([*valid, event])
    assert response.status_code == 400, response.content
    errors = _errors(response)
    assert [e["index"] for e in errors] == [2] * len(errors)
    assert (field, True) in [(e["field"], message in e["error"]) for e in errors], errors
    assert not User.objects.exists()
    assert not IngestedEvent.objects.exists()


def test_every_invalid_event_of_a_batch_is_reported(api):
    events = [
        b.consent_changed(True, "2026-01-02T00:00:00"),
        b.account_upserted(),
        b.message_added(AT, role="bot", kind="voice"),
    ]
    errors = _errors(api.events(events))
    assert sorted((e["index"], e["field"]) for e in errors) == [
        (0, "at"),
        (2, "conversation.kind"),
        (2, "message.role"),
    ]


def test_unknown_extra_fields_are_ignored(api):
    event = {**b.account_upserted(), "trace_id": "abc"}
    assert api.events([event]).status_code == 200


def test_a_domain_error_answers_400_with_the_index_of_the_event(api):
    events = [b.account_upserted(), b.message_added(AT, account="acct-unknown")]
    response = api.events(events)
    assert response.status_code == 400
    assert _errors(response) == [
        {
            "index": 1,
            "field": "account",
            "error": "unknown account 'acct-unknown'; send account.upserted first",
        }
    ]
    assert not User.objects.exists()


# --- worked examples 2 and 3 of docs/retention-rules.md, end to end -------------


def test_worked_examples_2_and_3_through_the_api(api):
    setup = [
        b.account_upserted("acct-1", "2025-12-01T00:00:00Z"),
        b.message_added("2026-01-01T10:00:00Z", conversation="conv-1"),
        b.message_added("2026-01-03T09:00:00Z", conversation="conv-1"),
    ]
    assert api.events(setup).status_code == 200
    conversation = Conversation.objects.get(external_id="conv-1")
    assert (conversation.rule, conversation.retain_until) == (Rule.NOT_SHARED, utc(2026, 2, 2, 9))

    # 2. Consent allowed 2026-01-05; the chat resumed 2026-01-10.
    resumed = [
        b.consent_changed(True, "2026-01-05T00:00:00Z"),
        b.message_added("2026-01-10T12:00:00Z", conversation="conv-1"),
    ]
    assert api.events(resumed).json() == {"accepted": 2, "duplicates": 0}
    conversation.refresh_from_db()
    assert conversation.rule == Rule.SHARED_TRAINING
    assert conversation.retain_until == utc(2031, 1, 10, 12)

    # 3. Consent off 2026-03-01, no new message: unchanged ...
    assert api.events([b.consent_changed(False, "2026-03-01T00:00:00Z")]).status_code == 200
    conversation.refresh_from_db()
    assert conversation.rule == Rule.SHARED_TRAINING
    assert conversation.retain_until == utc(2031, 1, 10, 12)

    # ... but a run starting after 2026-03-01 does not use it; one before did.
    before = api.post(
        "training-runs", {"id": "run-feb", "name": "Feb", "started_at": "2026-02-15T00:00:00Z"}
    )
    after = api.post(
        "training-runs", {"id": "run-mar", "name": "Mar", "started_at": "2026-03-02T00:00:00Z"}
    )
    assert before.json()["conversations"] == 1
    assert after.json()["conversations"] == 0
    assert api.get("training-runs/run-feb/conversations").json() == {
        "conversations": ["conv-1"],
        "next": None,
    }
    assert api.get("training-runs/run-mar/conversations").json() == {
        "conversations": [],
        "next": None,
    }


# --- training runs -------------------------------------------------------------


def _run(api, run_id="run-1", name="Run 1", started_at="2026-06-01T00:00:00Z"):
    return api.post("training-runs", {"id": run_id, "name": name, "started_at": started_at})


def _history(api, events):
    response = api.events(events)
    assert response.status_code == 200, response.content


def test_training_run_uses_only_eligible_conversations(api):
    _history(
        api,
        [
            b.account_upserted("alice", "2026-01-01T00:00:00Z"),
            b.account_upserted("bob", "2026-01-01T00:00:00Z"),
            b.account_upserted("carol", "2026-01-01T00:00:00Z"),
            b.account_upserted("corp", "2026-01-01T00:00:00Z", type="commercial", plan="team"),
            b.consent_changed(True, "2026-01-02T00:00:00Z", account="alice"),
            b.consent_changed(True, "2026-01-02T00:00:00Z", account="carol"),
            b.consent_changed(True, "2026-01-02T00:00:00Z", account="corp"),
            # alice: shared -> used; shared but deleted -> not; not shared (before consent) -> not
            b.message_added("2026-02-01T00:00:00Z", account="alice", conversation="a-shared"),
            b.message_added("2026-02-01T00:00:00Z", account="alice", conversation="a-deleted"),
            b.conversation_deleted(
                "2026-03-01T00:00:00Z", account="alice", conversation="a-deleted"
            ),
            b.message_added("2026-01-01T12:00:00Z", account="alice", conversation="a-old"),
            # bob never allowed
            b.message_added("2026-02-01T00:00:00Z", account="bob", conversation="b-chat"),
            # carol shared, then turned consent off before the run
            b.message_added("2026-02-01T00:00:00Z", account="carol", conversation="c-chat"),
            b.consent_changed(False, "2026-05-01T00:00:00Z", account="carol"),
            # commercial accounts are never used
            b.message_added("2026-02-01T00:00:00Z", account="corp", conversation="corp-chat"),
            # started after the run began
            b.message_added("2026-06-02T00:00:00Z", account="alice", conversation="a-later"),
        ],
    )
    response = _run(api)
    assert response.status_code == 201
    assert response.json() == {
        "id": "run-1",
        "name": "Run 1",
        "started_at": "2026-06-01T00:00:00Z",
        "conversations": 1,
    }
    assert api.get("training-runs/run-1/conversations").json()["conversations"] == ["a-shared"]


def test_registering_a_run_again_changes_nothing(api):
    _history(
        api,
        [
            b.account_upserted(),
            b.consent_changed(True, "2026-01-02T00:00:00Z"),
            b.message_added("2026-02-01T00:00:00Z"),
        ],
    )
    first = _run(api)
    _history(api, [b.message_added("2026-03-01T00:00:00Z", conversation="conv-2")])
    replay = _run(api, started_at="2026-06-01T02:00:00+02:00")  # the same instant
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert first.json()["conversations"] == 1
    assert TrainingRun.objects.count() == 1


@pytest.mark.parametrize(
    "change", [{"name": "Other"}, {"started_at": "2026-06-01T00:00:01Z"}], ids=["name", "start"]
)
def test_conflicting_replay_of_a_run_is_409(api, change):
    _run(api)
    response = _run(api, **change)
    assert response.status_code == 409
    assert _errors(response)[0]["field"] == "id"
    assert "already registered" in _errors(response)[0]["error"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "started_at": "2026-06-01T00:00:00Z"}, "id"),
        ({"id": "r", "started_at": "2026-06-01T00:00:00Z"}, "name"),
        ({"id": "r", "name": "", "started_at": "2026-06-01T00:00:00Z"}, "name"),
        ({"id": "r", "name": "x"}, "started_at"),
        ({"id": "r", "name": "x", "started_at": "2026-06-01T00:00:00"}, "started_at"),
        ({"id": 5, "name": "x", "started_at": "2026-06-01T00:00:00Z"}, "id"),
        ({"id": "r", "name": "x", "started_at": "2999-06-01T00:00:00Z"}, "started_at"),
        ([], None),
    ],
    ids=[
        "no-id",
        "no-name",
        "empty-name",
        "no-start",
        "naive-start",
        "numeric-id",
        "future-start",
        "not-object",
    ],
)
def test_bad_training_run_is_400(api, payload, field):
    response = api.post("training-runs", payload)
    assert response.status_code == 400
    assert field in [e["field"] for e in _errors(response)]
    assert not TrainingRun.objects.exists()


def test_run_conversations_page_through_every_id_once(api):
    events = [b.account_upserted(), b.consent_changed(True, "2026-01-02T00:00:00Z")]
    events += [
        b.message_added("2026-02-01T00:00:00Z", conversation=f"conv-{i:02}") for i in range(25)
    ]
    _history(api, events)
    assert _run(api).json()["conversations"] == 25

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        body = api.get("training-runs/run-1/conversations", **params).json()
        seen += body["conversations"]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == [f"conv-{i:02}" for i in range(25)]
    assert len(set(seen)) == 25


def test_run_conversations_default_page_is_500(api):
    events = [b.account_upserted(), b.consent_changed(True, "2026-01-02T00:00:00Z")]
    events += [
        b.message_added("2026-02-01T00:00:00Z", conversation=f"conv-{i}") for i in range(501)
    ]
    _history(api, events)
    _run(api)
    body = api.get("training-runs/run-1/conversations").json()
    assert len(body["conversations"]) == 500
    rest = api.get("training-runs/run-1/conversations", cursor=body["next"]).json()
    assert len(rest["conversations"]) == 1 and rest["next"] is None


def test_unknown_run_is_404(api):
    response = api.get("training-runs/nope/conversations")
    assert response.status_code == 404
    assert "unknown training run" in _errors(response)[0]["error"]


@pytest.mark.parametrize("limit", ["0", "1001", "-5", "ten", "²", ""])
def test_bad_limit_is_400(api, limit):
    _run(api)
    response = api.get("training-runs/run-1/conversations", limit=limit)
    assert response.status_code == 400
    assert _errors(response)[0]["field"] == "limit"


def test_bad_or_foreign_cursor_is_400(api):
    events = [b.account_upserted(), b.consent_changed(True, "2026-01-02T00:00:00Z")]
    events += [b.message_added("2026-02-01T00:00:00Z", conversation=f"conv-{i}") for i in range(3)]
    _history(api, events)
    _run(api, "run-1")
    _run(api, "run-2")
    cursor = api.get("training-runs/run-1/conversations", limit=1).json()["next"]
    for bad in ("garbage", cursor + "x", cursor.replace(cursor[0], "Z", 1)):
        response = api.get("training-runs/run-1/conversations", cursor=bad)
        assert response.status_code == 400
        assert _errors(response)[0]["field"] == "cursor"
    foreign = api.get("training-runs/run-2/conversations", cursor=cursor)
    assert foreign.status_code == 400
    assert "another training run" in _errors(foreign)[0]["error"]


def test_run_ids_follow_the_one_id_rule_so_every_run_is_reachable(api):
    # Issue "Hardening" 5 changed this contract: a run id with "/" was stored
    # and reached through a catch-all path; now it is refused like any id the
    # pages could not open, and every stored run is one path segment.
    refused = _run(api, "team/run-7")
    assert refused.status_code == 400
    assert [e["field"] for e in _errors(refused)] == ["id"]
    assert "must be an id the portal's pages can open" in _errors(refused)[0]["error"]
    assert _run(api, "team:run-7").status_code == 201
    assert api.get("training-runs/team:run-7/conversations").status_code == 200
    assert api.get("training-runs/team/run-7/conversations").status_code == 404


def test_messages_are_not_counted_twice_over_http_replay(api):
    events = [b.account_upserted(), b.message_added(AT), b.message_added(AT)]
    assert api.events(events).json() == {"accepted": 3, "duplicates": 0}
    assert api.events(events).json() == {"accepted": 0, "duplicates": 3}
    assert Message.objects.count() == 2


def test_persistent_write_conflicts_answer_503_with_retry_after(api, monkeypatch):
    def always_conflicts(events, origin):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "_apply", always_conflicts)
    response = api.events([b.account_upserted()])
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "nothing was applied" in _errors(response)[0]["error"]
