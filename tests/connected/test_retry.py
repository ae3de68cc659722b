"""The retry rule: exponential backoff with jitter, and when to give up."""

from datetime import timedelta

from connected.retry import is_dead, retry_delay
from tests.factories import utc


def test_backoff_doubles_from_ten_seconds_and_stops_growing_at_six_hours():
    full = [retry_delay(attempts=n, jitter=0.999999) for n in (1, 2, 3, 4)]
    assert [round(d.total_seconds()) for d in full] == [10, 20, 40, 80]
    assert retry_delay(attempts=40, jitter=0.999999) <= timedelta(hours=6)


def test_jitter_keeps_a_delay_between_half_and_all_of_it():
    assert retry_delay(attempts=3, jitter=0.0) == timedelta(seconds=20)
    assert timedelta(seconds=20) < retry_delay(attempts=3, jitter=0.5) < timedelta(seconds=40)


def test_a_delivery_is_given_up_only_after_the_whole_window():
    first = utc(2026, 3, 1)
    window = timedelta(days=3)
    assert not is_dead(
        first_due=first, now=first + window - timedelta(seconds=1), retry_window=window
    )
    assert is_dead(first_due=first, now=first + window, retry_window=window)
