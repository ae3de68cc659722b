"""Strict ingest (issue "Hardening" 5): a timestamp is an ISO 8601 string
with a time zone and nothing else; an event id reused for a different event
is a 409 naming the id (the same event again stays a duplicate); every id the
chat service sends but the event id follows the pages' one id rule."""

import pytest

from accounts.models import User
from ingest.models import IngestedEvent
from retention.models import Conversation, Message, TrainingRun
from tests.ingest import builders as b

AT = "2026-01-01T10:00:00Z"

NOT_A_TIMESTAMP = {
    "zero": 0,
    "seconds": 1767225600,
    "float": 1767225600.5,
    "numeric-string": "1767225600",
    "zero-string": "0",
    "true": True,
    "false": False,
    "null": None,
    "object": {"at": AT},
    "date-only": "2026-01-01",
    "no-zone": "2026-01-01T10:00:00",
    "words": "yesterday",
}


def _errors(response) -> list[dict]:
    return response.json()["errors"]


@pytest.mark.parametrize("value", NOT_A_TIMESTAMP.values(), ids=NOT_A_TIMESTAMP.keys())
def test_an_event_time_that_is_not_an_iso_string_with_a_zone_is_400(api, value):
    event = b.account_upserted(at=AT)
    event["at"] = value
    response = api.events([event])
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in _errors(response)] == [(0, "at")]
    assert not User.objects.exists()


@pytest.mark.parametrize("value", NOT_A_TIMESTAMP.values(), ids=NOT_A_TIMESTAMP.keys())
def test_a_training_run_start_that_is_not_an_iso_string_with_a_zone_is_400(api, value):
    response = api.post("training-runs", {"id": "run-1", "name": "Run 1", "started_at": value})
    assert response.status_code == 400
    assert [e["field"] for e in _errors(response)] == ["started_at"]
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize(
    "value", ["2026-01-01T10:00:00Z", "2026-01-01T11:00:00+01:00", "2026-01-01 10:00:00.5Z"]
)
def test_iso_strings_with_a_zone_are_accepted(api, value):
    assert api.events([b.account_upserted(at=value)]).status_code == 200


def test_the_same_event_again_is_a_duplicate_however_it_is_spelled(api):
    first = b.account_upserted(at="2026-01-01T10:00:00Z", id="evt-a")
    respelled = {**first, "at": "2026-01-01T11:00:00+01:00", "unknown": "ignored"}
    assert api.events([first]).json() == {"accepted": 1, "duplicates": 0}
    assert api.events([respelled]).json() == {"accepted": 0, "duplicates": 1}
    assert api.events([first, first]).json() == {"accepted": 0, "duplicates": 2}


def test_an_event_id_reused_for_a_different_event_is_409_naming_it(api):
    api.events([b.account_upserted(id="evt-a"), b.message_added(AT, id="evt-b")])
    other = b.message_added(AT, id="evt-b", content="something else")
    response = api.events([b.consent_changed(True, AT, id="evt-c"), other])
    assert response.status_code == 409
    assert _errors(response) == [
        {
            "index": 1,
            "field": "id",
            "error": "event id 'evt-b' was already used for a different event",
        }
    ]
    # Nothing of the batch was applied, not even the new event before it.
    assert not IngestedEvent.objects.filter(event_id="evt-c").exists()
    assert Message.objects.get().content == "hello"


def test_an_id_repeated_in_one_batch_with_a_different_body_is_409(api):
    first = b.account_upserted(id="evt-a")
    second = b.account_upserted(id="evt-a", plan="pro")
    response = api.events([first, first, second])
    assert response.status_code == 409
    assert [(e["index"], e["field"]) for e in _errors(response)] == [(2, "id")]
    assert "'evt-a'" in _errors(response)[0]["error"]
    assert not IngestedEvent.objects.exists()


def test_an_event_claimed_before_digests_were_kept_stays_a_duplicate(api):
    IngestedEvent.objects.create(event_id="evt-old", type="account.upserted")
    response = api.events([b.account_upserted(id="evt-old")])
    assert response.json() == {"accepted": 0, "duplicates": 1}


def test_the_digest_of_a_claimed_event_is_stored(api):
    api.events([b.account_upserted(id="evt-a")])
    assert len(IngestedEvent.objects.get().digest) == 64


BAD_ID = {"slash": "a/b", "space": "a b", "percent": "50%", "accent": "café", "dot-dot": ".."}


@pytest.mark.parametrize("bad", BAD_ID.values(), ids=BAD_ID.keys())
@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda bad: b.message_added(AT, message=bad), "message.id"),
        (lambda bad: b.feedback_submitted(AT, feedback=bad), "feedback.id"),
        (lambda bad: b.account_upserted(account=bad), "account.id"),
        (lambda bad: b.message_added(AT, conversation=bad), "conversation.id"),
    ],
    ids=["message", "feedback", "account", "conversation"],
)
def test_every_id_follows_the_one_id_rule(api, make, field, bad):
    response = api.events([b.account_upserted(), make(bad)])
    assert response.status_code == 400
    assert (1, field) in [(e["index"], e["field"]) for e in _errors(response)]
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("bad", BAD_ID.values(), ids=BAD_ID.keys())
def test_training_run_ids_follow_the_one_id_rule(api, bad):
    response = api.post(
        "training-runs", {"id": bad, "name": "Run", "started_at": "2026-01-01T00:00:00Z"}
    )
    assert response.status_code == 400
    assert [e["field"] for e in _errors(response)] == ["id"]


def test_event_ids_may_be_any_storable_text(api):
    assert api.events([b.account_upserted(id="evt/ä 1%")]).status_code == 200
