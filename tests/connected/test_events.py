"""The one list of event types and what their data may carry (no database)."""

import pytest

from connected.events import EVENT_TYPES, InvalidEvent, event_validate, iso_utc
from tests.connected import factories as f
from tests.factories import utc


@pytest.mark.parametrize(
    "built",
    [f.deleted("a1", "c1"), f.consent("a1"), f.purged("a1", "c1"), f.feedback_purged("a1", "fb")],
)
def test_each_documented_shape_is_accepted(built):
    event_validate(**built)


def test_an_unknown_type_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidEvent, match=r"conversation\.deleted"):
        event_validate(type="conversation.archived", account="a1", data={"account": "a1"})


def test_data_with_an_extra_field_such_as_a_title_is_refused():
    built = f.deleted("a1", "c1")
    built["data"]["title"] = "Trip to Lisbon"
    with pytest.raises(InvalidEvent, match="exactly"):
        event_validate(**built)


def test_data_naming_another_account_is_refused():
    built = f.consent("a1")
    with pytest.raises(InvalidEvent, match="names account"):
        event_validate(type=built["type"], account="a2", data=built["data"])


def test_the_five_types_of_the_issue():
    assert set(EVENT_TYPES) == {
        "conversation.deleted",
        "consent.changed",
        "conversation.purged",
        "scores.purged",
        "feedback.purged",
    }


def test_times_are_utc_with_a_z():
    assert iso_utc(utc(2026, 3, 1, 10)) == "2026-03-01T10:00:00Z"
