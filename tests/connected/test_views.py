"""The change feed (GET /api/internal/changes) and erasure confirmations
(POST /api/internal/erasures/<id>/confirm) over HTTP."""

import pytest

from connected.models import OutboxEvent
from tests.connected import factories as f

ALL = ("conversation.deleted", "consent.changed", "conversation.purged")


def _feed(api, key, **params) -> tuple[list[dict], str | None]:
    response = api.get("changes", key=key, **params)
    assert response.status_code == 200, response.content
    body = response.json()
    return body["events"], body["next"]


# --- the change feed -----------------------------------------------------------


def test_the_feed_lists_subscribed_events_in_order_with_their_webhook_ids(api, register, record):
    _, creds = register("lake", events=["conversation.deleted", "conversation.purged"])
    record(f.deleted("a1", "c1"), f.consent("a1"), f.purged("a1", "c1"))
    record(f.deleted("a2", "c9"))
    events, _ = _feed(api, creds.api_key)
    assert [(e["type"], e["data"].get("conversation")) for e in events] == [
        ("conversation.deleted", "c1"),
        ("conversation.purged", "c1"),
        ("conversation.deleted", "c9"),
    ]
    ids = list(
        OutboxEvent.objects.exclude(type="consent.changed").order_by("seq")
        .values_list("public_id", flat=True)
    )  # fmt: skip
    assert [e["id"] for e in events] == ids
    assert events[0] == {
        "id": ids[0],
        "type": "conversation.deleted",
        "timestamp": events[0]["timestamp"],
        "data": f.deleted("a1", "c1")["data"],
    }
    assert events[0]["timestamp"].endswith("Z")


def test_the_feed_starts_at_registration_and_never_echoes_the_systems_own_events(
    api, register, record
):
    record(f.deleted("a1", "before"), dispatch=False)
    system, creds = register("lake", events=ALL)
    record(f.deleted("a1", "mine"), origin=system.pk)
    record(f.deleted("a1", "after"))
    events, _ = _feed(api, creds.api_key)
    assert [e["data"]["conversation"] for e in events] == ["after"]


def test_pages_follow_the_cursor_without_gaps_or_repeats(api, register, record):
    _, creds = register("lake", events=ALL)
    record(*[f.deleted("a1", f"c{n}") for n in range(5)])
    seen, cursor = [], None
    for _ in range(3):
        events, cursor = _feed(api, creds.api_key, limit=2, **({"after": cursor} if cursor else {}))
        seen += [e["data"]["conversation"] for e in events]
    assert seen == [f"c{n}" for n in range(5)]
    events, next_cursor = _feed(api, creds.api_key, after=cursor)
    assert events == [] and next_cursor is None
    record(f.deleted("a1", "c5"))
    events, _ = _feed(api, creds.api_key, after=cursor)
    assert [e["data"]["conversation"] for e in events] == ["c5"]


@pytest.mark.parametrize("cursor", ["forged", "WzEsMV0:1v:abc", "", "x" * 500])
def test_a_forged_cursor_is_a_400(api, register, record, cursor):
    _, creds = register("lake", events=ALL)
    response = api.get("changes", key=creds.api_key, after=cursor or "a:b")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "after"


def test_another_systems_cursor_is_a_400(api, register, record):
    _, lake = register("lake", events=ALL)
    _, other = register("other", events=ALL)
    record(f.deleted("a1", "c1"), f.deleted("a1", "c2"))
    _, cursor = _feed(api, lake.api_key, limit=1)
    response = api.get("changes", key=other.api_key, after=cursor)
    assert response.status_code == 400
    assert "another system" in response.json()["errors"][0]["error"]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "1.5", "", "\u0661"])
def test_a_limit_outside_1_to_1000_is_a_400(api, register, limit):
    _, creds = register("lake", events=ALL)
    response = api.get("changes", key=creds.api_key, limit=limit)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_limits_1_and_1000_are_accepted(api, register, limit):
    _, creds = register("lake", events=ALL)
    assert api.get("changes", key=creds.api_key, limit=limit).status_code == 200


def test_the_feed_needs_a_key(api, register):
    register("lake", events=ALL)
    response = api.get("changes", key=None)
    assert response.status_code == 401
    assert response.json()["errors"][0]["error"].startswith("missing bearer token")


def test_the_feed_refuses_other_methods_as_json(api, register):
    _, creds = register("lake", events=ALL)
    response = api.post("changes", {}, key=creds.api_key)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "not allowed" in response.json()["errors"][0]["error"]


# --- erasure confirmations --------------------------------------------------------


def _purge_event_id(account="a1", conversation="c1") -> str:
    return OutboxEvent.objects.get(
        type="conversation.purged", account=account, subject=conversation
    ).public_id


def test_a_confirmation_is_200_and_a_repeat_is_200_with_the_same_time(api, register, record):
    _, creds = register("lake", events=["conversation.purged"], confirms_erasure=True)
    record(f.purged("a1", "c1"))
    event_id = _purge_event_id()
    first = api.post(f"erasures/{event_id}/confirm", key=creds.api_key)
    assert first.status_code == 200
    assert first.json()["id"] == event_id
    assert first.json()["confirmed_at"].endswith("Z")
    again = api.post(f"erasures/{event_id}/confirm", key=creds.api_key)
    assert again.status_code == 200
    assert again.json() == first.json()


def test_an_event_never_sent_to_that_system_is_a_404(api, register, record):
    _, lake = register("lake", events=["conversation.purged"], confirms_erasure=True)
    _, other = register("other", events=["conversation.deleted"], confirms_erasure=True)
    record(f.purged("a1", "c1"), f.deleted("a1", "c1"))
    event_id = _purge_event_id()
    deleted_id = OutboxEvent.objects.get(type="conversation.deleted").public_id
    assert api.post(f"erasures/{event_id}/confirm", key=other.api_key).status_code == 404
    assert api.post("erasures/evt_UNKNOWN/confirm", key=lake.api_key).status_code == 404
    # Not an erasure: nothing to confirm.
    assert api.post(f"erasures/{deleted_id}/confirm", key=other.api_key).status_code == 404


def test_a_confirmation_needs_a_key(api, register, record):
    register("lake", events=["conversation.purged"], confirms_erasure=True)
    record(f.purged("a1", "c1"))
    response = api.post(f"erasures/{_purge_event_id()}/confirm", key=None)
    assert response.status_code == 401
