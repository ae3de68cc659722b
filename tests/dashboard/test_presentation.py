"""The pure presentation helpers: wording of dates, the timeline, cursors, the article body."""

from datetime import timedelta

import pytest

from dashboard.presentation import (
    LAW_CAVEAT,
    BadCursor,
    cursor_decode,
    cursor_encode,
    iso_utc,
    relative_text,
    render_article_body,
    shown_date,
    timeline,
)
from tests.factories import utc

NOW = utc(2026, 1, 4, 12)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (utc(2026, 2, 2, 9), "in 29 days"),
        (utc(2026, 1, 4, 23), "today"),
        (utc(2026, 1, 5, 1), "in 1 day"),
        (utc(2026, 1, 1), "3 days ago"),
        (utc(2026, 7, 4), "in 6 months"),
        (utc(2031, 1, 10), "in 5 years"),
    ],
)
def test_relative_text_counts_calendar_days_months_and_years(target, expected):
    assert relative_text(target, NOW) == expected


def test_shown_date_reads_date_relative_and_iso_and_carries_the_law_caveat():
    shown = shown_date(utc(2026, 2, 2, 9), NOW)
    assert (shown.text, shown.relative, shown.iso) == (
        "2 February 2026",
        "in 29 days",
        "2026-02-02T09:00:00Z",
    )
    assert shown.caveat == LAW_CAVEAT == "unless retention is required by law"
    assert shown_date(None, NOW) is None


def test_timeline_places_today_between_last_activity_and_retain_until():
    start = NOW - timedelta(days=10)
    bar = timeline(start, start + timedelta(days=40), NOW)
    assert bar.today_x == 25.0 and bar.x == "25.0" and not bar.past


def test_timeline_clamps_today_and_marks_a_passed_date():
    start = NOW - timedelta(days=40)
    bar = timeline(start, start + timedelta(days=30), NOW)
    assert bar.today_x == 100.0 and bar.past
    assert "removal is due" in bar.label
    assert timeline(start, None, NOW) is None


def test_cursor_round_trips():
    moment = utc(2026, 1, 3, 9, 0, 5)
    assert cursor_decode(cursor_encode(moment, 42)) == (moment, 42)


@pytest.mark.parametrize(
    "bad", ["", "x", "not-base64!!", "MjAyNg", cursor_encode(utc(2026, 1, 1), 1)[:-3], "A" * 300]
)
def test_cursor_decode_refuses_what_this_site_did_not_make(bad):
    with pytest.raises(BadCursor):
        cursor_decode(bad)


def test_article_body_is_escaped_and_bullets_separated_by_blank_lines_form_one_list():
    html = render_article_body("Intro <script>x</script> & more.\n\n- One\n\n- Two\n\nAfter.")
    assert html == (
        "<p>Intro &lt;script&gt;x&lt;/script&gt; &amp; more.</p>\n<ul><li>One</li><li>Two</li></ul>\n<p>After.</p>"
    )


def test_iso_utc_uses_z():
    assert iso_utc(utc(2026, 1, 1)) == "2026-01-01T00:00:00Z"
    assert iso_utc(None) is None
