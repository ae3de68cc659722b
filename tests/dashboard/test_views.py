"""The dashboard pages: what the user sees, what each form changes, and that
bad input (another user's id, a malformed id, an expired session) gets a
clear 4xx and changes nothing."""

import json
import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentChange
from accounts.roles import StaffRole
from accounts.services import consent_record
from dashboard import selectors
from dashboard.selectors.common import RECENT_LIMIT
from retention.models import Conversation, DeletionReceipt, Feedback, Rule
from retention.services.conversations import conversation_flag, feedback_submit
from retention.services.holds import legal_hold_place
from retention.services.training import training_run_register
from staff.models import AccessLog, DataKind, Outcome
from tests.factories import CommercialUserFactory, StaffFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
YES = {"confirm": "yes"}  # the second step of every delete (templates/_confirm.html)
CAVEAT = "unless retention is required by law"


def text(response) -> str:
    """The page as a reader sees it: tags stripped, whitespace collapsed."""
    return (
        " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())
        .replace(" ,", ",")
        .replace(" .", ".")
    )


def deleted_ids(user):
    return set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )


# ------------------------------------------------------------------ pages


def test_anonymous_page_request_redirects_to_sign_in(db):
    response = Client().get("/conversations/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/conversations/"


def test_expired_session_on_htmx_request_answers_hx_redirect_to_sign_in(db):
    response = Client().get(
        "/conversations/?rule=not_shared",
        HTTP_HX_CURRENT_URL="http://testserver/conversations/?rule=not_shared",
        **HTMX,
    )
    assert response.status_code == 401
    assert (
        response["HX-Redirect"] == "/accounts/login/?next=%2Fconversations%2F%3Frule%3Dnot_shared"
    )


def test_expired_session_on_htmx_post_changes_nothing(owner, history):
    response = Client().post("/conversations/c-new/delete/", **HTMX)
    assert response.status_code == 401 and response["HX-Redirect"].startswith("/accounts/login/")
    assert deleted_ids(owner) == set()


def test_overview_shows_consent_counts_per_rule_and_next_purge(owner, owner_client, history, now):
    response = owner_client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "do not allow" in body and "never turned it on" in body
    assert "3 in your history" in body
    assert "Not shared for training" in body
    # The next purge is the oldest not-shared conversation: 30 days after its activity.
    assert f"(in 27 days), {CAVEAT}" in text(response)


def test_overview_counts_each_rule_and_the_deleted_awaiting_purge_apart(
    owner, owner_client, history, now
):
    conversation_flag(
        conversation=Conversation.objects.get(external_id="c-old"), flagged_at=now, scores={}
    )
    owner_client.post("/conversations/c-new/delete/", YES)
    page = text(owner_client.get("/"))
    assert "2 in your history + 1 deleted, awaiting removal = 3 conversations we hold" in page
    # Rows of 0 are not listed (issue 11); the rows add up to the headline.
    assert (
        "Flagged by trust and safety 1 Not shared for training 1 In your history 2 "
        "Deleted, awaiting removal 1 We hold 3"
    ) in page
    assert "Shared for model training" not in page


def test_overview_of_a_commercial_account_says_the_consumer_policy_does_not_apply_and_shows_no_dates(
    db, add_message, now
):
    user = CommercialUserFactory()
    add_message(user, now - timedelta(days=1), conversation="w1", title="Work")
    client = Client()
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "consumer retention policy does not govern" in body
    assert "commercial terms</a>" in body
    assert "Next scheduled removal" not in body
    listing = client.get("/conversations/").content.decode()
    assert "Governed by your commercial terms" in listing
    assert "unless retention is required by law" not in listing


def test_conversation_list_shows_rows_newest_first_with_badge_date_and_timeline(
    owner_client, history
):
    body = owner_client.get("/conversations/").content.decode()
    assert (
        body.index("Tax &lt;b&gt;question&lt;/b&gt;")
        < body.index("Recipe ideas")
        < body.index("Old trip plans")
    )
    assert "Someone else" not in body
    assert '<span class="badge badge-not_shared">' in body
    assert "(in 29 days)" in body
    assert body.count('<svg class="timeline"') == 3
    assert "style=" not in body and "<script>" not in body


@pytest.mark.parametrize("commercial", [False, True])
def test_conversation_list_shows_dates_timelines_and_links_as_the_other_pages_do(
    db, add_message, now, commercial
):
    # The rows print the markup the shared date and timeline partials print:
    # what they show is what every other page shows for the same date.
    user = CommercialUserFactory() if commercial else UserFactory()
    add_message(user, now - timedelta(days=2), conversation="c-1", title="First")
    add_message(user, now - timedelta(days=1), conversation="c:2~x", title="Second")
    client = Client()
    client.force_login(user)
    body = client.get("/conversations/").content.decode()
    rows = selectors.conversation_page(user=user, now=timezone.now()).rows
    assert [row.id for row in rows] == ["c:2~x", "c-1"]
    for row in rows:
        last = render_to_string("dashboard/_date.html", {"d": row.last_activity}).strip()
        assert f'data-label="Last activity" class="cell-activity">{last}</td>' in body
        if commercial:
            kept = "Governed by your commercial terms"
        else:
            kept = render_to_string(
                "dashboard/_date.html",
                {"d": row.retain_until, "caveat_on": True, "caveat": CAVEAT},
            ).strip()
            assert CAVEAT in kept
        assert f'data-label="Kept until" class="cell-kept">{kept}</td>' in body
        bar = render_to_string(
            "dashboard/_timeline.html", {"t": row.timeline, "compact": True}
        ).strip()
        assert bool(bar) is not commercial
        assert f'data-label="Timeline" class="cell-timeline">{bar}</td>' in body
        assert f'<a href="{reverse("dashboard:conversation", args=[row.id])}">' in body
        delete = reverse("dashboard:conversation_delete", args=[row.id])
        assert f'formaction="{delete}"' in body and f'hx-post="{delete}"' in body


def test_conversation_list_filters_by_kind_rule_and_title(owner_client, history):
    assert (
        "Recipe ideas" in owner_client.get("/conversations/?kind=coding_session").content.decode()
    )
    assert (
        "Old trip" not in owner_client.get("/conversations/?kind=coding_session").content.decode()
    )
    assert (
        "No conversations match"
        in owner_client.get("/conversations/?rule=flagged").content.decode()
    )
    body = owner_client.get("/conversations/?q=TRIP").content.decode()
    assert "Old trip plans" in body and "Recipe ideas" not in body


def test_conversation_list_paginates_by_keyset(owner, owner_client, add_message, now):
    for i in range(30):
        add_message(
            owner, now - timedelta(hours=i), conversation=f"p{i:02d}", title=f"Chat {i:02d}"
        )
    first = owner_client.get("/conversations/").content.decode()
    assert "Chat 00" in first and "Chat 24" in first and "Chat 25" not in first
    cursor = first.split("cursor=")[1].split('"')[0]
    second = owner_client.get(f"/conversations/?cursor={cursor}").content.decode()
    assert "Chat 25" in second and "Chat 29" in second and "Chat 24" not in second
    assert "Older conversations" not in second


def test_malformed_cursor_is_a_400(owner_client, history):
    assert owner_client.get("/conversations/?cursor=garbage").status_code == 400


def test_htmx_list_request_renders_only_the_listing_fragment(owner_client, history):
    body = owner_client.get("/conversations/?q=Tax", **HTMX).content.decode()
    assert body.lstrip().startswith('<div id="listing">')
    assert "<html" not in body and "Tax &lt;b&gt;" in body


def test_htmx_history_restore_gets_the_whole_page(owner_client, history):
    body = owner_client.get(
        "/conversations/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    ).content.decode()
    assert "<html" in body


def test_conversation_page_shows_clock_rule_quotes_and_delete(owner_client, history):
    response = owner_client.get("/conversations/c-new/")
    body = response.content.decode()
    assert "Messages (inputs and outputs)" in body
    assert f"(in 29 days), {CAVEAT}" in text(response)
    assert "your chats will be retained in our back-end storage systems for up to 30 days." in body
    assert 'href="/policy/#if-you-do-not-allow-us-to-use-your-data-to-improve-claude"' in body
    assert "No training run has used this conversation." in body
    assert 'action="/conversations/c-new/delete/"' in body


def test_conversation_page_of_a_flagged_chat_shows_the_scores_clock_and_feedback_clock(
    owner, owner_client, history, now
):
    conversation = Conversation.objects.get(external_id="c-new")
    conversation_flag(conversation=conversation, flagged_at=now, scores={"x": 0.9})
    feedback_submit(
        user=owner,
        external_id="f1",
        kind="thumbs_down",
        comment="",
        excerpt="...",
        submitted_at=now,
        conversation_external_id="c-new",
    )
    body = owner_client.get("/conversations/c-new/").content.decode()
    assert "Trust and safety classification scores" in body and "(in 7 years)" in body
    assert "Your feedback (thumbs down)" in body and "(in 5 years)" in body
    assert "up to 2 years and trust and safety classification scores" in body


def test_conversation_page_never_reveals_a_legal_hold(owner, owner_client, history):
    staff = StaffFactory()
    legal_hold_place(user=owner, reason="Litigation 42", placed_by=staff)
    conversation = Conversation.objects.get(external_id="c-new")
    assert conversation.rule == Rule.LEGAL_HOLD and conversation.retain_until is None
    body = owner_client.get("/conversations/c-new/").content.decode()
    assert "(in 29 days)" in body
    assert "hold" not in body.lower() and "Litigation" not in body
    assert "required by law or as necessary" not in body  # the hold's own quote


def test_conversation_page_lists_training_runs_and_future_use(
    owner, owner_client, add_message, now
):
    consent_record(
        article_version="v-test",
        user=owner,
        allowed=True,
        source="import",
        effective_at=now - timedelta(days=10),
    )
    add_message(owner, now - timedelta(days=5), conversation="s1", title="Shared")
    training_run_register(
        external_id="run-1", name="Spring model run", started_at=now - timedelta(days=1)
    )
    body = owner_client.get("/conversations/s1/").content.decode()
    assert "Spring model run" in body
    assert "Future training runs <strong>may</strong> use it" in body


def test_another_users_conversation_is_not_found_and_cannot_be_deleted(
    owner, other, owner_client, history
):
    assert owner_client.get("/conversations/c-theirs/").status_code == 404
    assert owner_client.post("/conversations/c-theirs/delete/").status_code == 404
    response = owner_client.post("/delete/selected/", {"ids": ["c-new", "c-theirs"]})
    assert response.status_code == 404
    assert deleted_ids(other) == set() and deleted_ids(owner) == set()


def test_malformed_conversation_id_is_a_400_and_changes_nothing(owner, owner_client, history):
    assert owner_client.get("/conversations/bad%20id/").status_code == 400
    assert owner_client.post("/conversations/bad%20id/delete/").status_code == 400
    assert (
        owner_client.post("/delete/selected/", {"ids": ["c-new", "no spaces"]}).status_code == 400
    )
    assert owner_client.post("/delete/selected/", {}).status_code == 400
    assert deleted_ids(owner) == set()


def test_delete_one_removes_it_from_history_at_once_and_lists_it_as_awaiting_purge(
    owner, owner_client, history
):
    response = owner_client.post("/conversations/c-new/delete/", YES)
    assert response.status_code == 302 and response["Location"] == "/conversations/"
    assert deleted_ids(owner) == {"c-new"}
    assert "Tax &lt;b&gt;" not in owner_client.get("/conversations/").content.decode()
    assert owner_client.get("/conversations/c-new/").status_code == 404
    deleted = text(owner_client.get("/deleted/"))
    assert "Tax" not in deleted  # no titles
    assert f"(in 29 days), {CAVEAT}" in deleted


def test_delete_again_is_a_no_op(owner, owner_client, history):
    owner_client.post("/conversations/c-new/delete/", YES)
    first = Conversation.objects.get(external_id="c-new").deleted_at
    assert owner_client.post("/conversations/c-new/delete/", YES).status_code == 302
    assert Conversation.objects.get(external_id="c-new").deleted_at == first


def test_delete_selected_with_htmx_rerenders_the_listing(owner, owner_client, history):
    response = owner_client.post("/delete/selected/", {"ids": ["c-new", "c-old"], **YES}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="listing">')
    assert "Deleted 2 conversations" in body and "Recipe ideas" in body and "Old trip" not in body
    assert deleted_ids(owner) == {"c-new", "c-old"}


def test_delete_all_needs_the_typed_confirmation(owner, other, owner_client, history):
    response = owner_client.post("/delete/all/", {"confirmation": "yes"})
    assert response.status_code == 400
    assert "Type &quot;delete all&quot; exactly" in response.content.decode()
    assert deleted_ids(owner) == set()
    assert (
        owner_client.post("/delete/all/", {"confirmation": "  Delete   ALL ", **YES}).status_code
        == 302
    )
    assert deleted_ids(owner) == {"c-new", "c-mid", "c-old"}
    assert deleted_ids(other) == set()


def test_consent_preview_shows_real_counts_and_changes_nothing_until_confirmed(
    owner, owner_client, add_message, now
):
    consent_record(
        article_version="v-test",
        user=owner,
        allowed=True,
        source="import",
        effective_at=now - timedelta(days=10),
    )
    add_message(owner, now - timedelta(days=5), conversation="s1", title="Shared one")
    add_message(owner, now - timedelta(days=4), conversation="s2", title="Shared two")
    training_run_register(external_id="run-1", name="Run", started_at=now - timedelta(days=1))
    response = owner_client.post("/consent/", {"allowed": "false"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Before you turn training use off" in body
    assert "stop using your <strong>2</strong> stored conversations" in body
    assert (
        "<strong>2</strong> conversations already used by training runs that have started stay"
        in body
    )
    assert "Not shared for training" in body
    assert ConsentChange.objects.filter(user=owner).count() == 1

    response = owner_client.post("/consent/", {"allowed": "false", "confirm": "on"})
    assert response.status_code == 302
    latest = ConsentChange.objects.filter(user=owner).order_by("-effective_at").first()
    assert latest.allowed is False and latest.source == "dashboard"
    history = owner_client.get("/consent/").content.decode()
    assert "Dashboard" in history and "Import from the chat service" in history


def test_consent_with_htmx_renders_the_panel(owner, owner_client, db):
    body = owner_client.post("/consent/", {"allowed": "true"}, **HTMX).content.decode()
    assert (
        body.lstrip().startswith('<div id="consent-panel">')
        and "Before you turn training use on" in body
    )
    body = owner_client.post(
        "/consent/", {"allowed": "true", "confirm": "on"}, **HTMX
    ).content.decode()
    assert "Training use is now allowed" in body
    assert ConsentChange.objects.get(user=owner).allowed is True


def test_consent_bad_value_is_a_400(owner, owner_client, db):
    assert owner_client.post("/consent/", {"allowed": "maybe", "confirm": "on"}).status_code == 400
    assert not ConsentChange.objects.filter(user=owner).exists()


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/conversations/c-new/delete/", YES),
        ("post", "/delete/selected/", {"ids": ["c-new"], **YES}),
        ("post", "/delete/all/", {"confirmation": "delete all", **YES}),
        ("post", "/consent/", {"allowed": "true", "confirm": "on"}),
    ],
)
def test_missing_csrf_token_gets_a_clear_403_and_changes_nothing(
    owner, csrf_client, history, method, path, data
):
    response = getattr(csrf_client, method)(path, data)
    assert response.status_code == 403
    assert (
        "Please try again" in response.content.decode()
        and "nothing was changed" in response.content.decode()
    )
    assert deleted_ids(owner) == set() and not ConsentChange.objects.filter(user=owner).exists()


def test_stale_csrf_token_gets_a_403_and_changes_nothing(owner, csrf_client, history):
    csrf_client.get("/conversations/")  # sets the cookie
    response = csrf_client.post(
        "/conversations/c-new/delete/", {"csrfmiddlewaretoken": "x" * 64}, **HTMX
    )
    assert response.status_code == 403
    assert deleted_ids(owner) == set()


def test_valid_csrf_token_is_accepted(owner, csrf_client, history):
    csrf_client.get("/conversations/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post("/conversations/c-new/delete/", YES, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert deleted_ids(owner) == {"c-new"}


def test_deleted_page_lists_receipts_after_a_purge(owner, owner_client, history, now):
    owner_client.post("/conversations/c-old/delete/", YES)
    DeletionReceipt.objects.create(
        sequence=1,
        user=owner,
        conversation_external_id="c-old",
        kind="chat",
        rule=Rule.DELETED,
        deleted_at=now - timedelta(days=31),
        retain_until=now - timedelta(days=1),
        purged_at=now,
        messages_removed=1,
        previous_hash="0" * 64,
        receipt_hash="a" * 64,
    )
    body = owner_client.get("/deleted/").content.decode()
    assert "Deletion receipts" in body and "No receipts yet" not in body
    assert "Old trip" not in body


def test_feedback_page_shows_each_feedback_with_its_own_date(owner, owner_client, now):
    feedback_submit(
        user=owner,
        external_id="f1",
        kind="bug_report",
        comment="Crash on send",
        excerpt="",
        submitted_at=now,
    )
    body = owner_client.get("/feedback/").content.decode()
    assert "Crash on send" in body and "Bug report" in body and "(in 5 years)" in body
    assert Feedback.objects.get(external_id="f1").public_retain_until.year == now.year + 5


def test_policy_page_renders_every_section_with_its_anchor(db):
    body = Client().get("/policy/").content.decode()
    for anchor in (
        "standard-retention-timeframe",
        "controlling-your-chat-history",
        "usage-policy-violations",
        "feedback-data",
    ):
        assert f'<section id="{anchor}"' in body
    assert "<li>Removed from your chat history immediately</li>" in body


def test_export_is_an_attachment_with_everything_about_the_user(owner, owner_client, history, now):
    consent_record(
        article_version="v-test", user=owner, allowed=True, source="dashboard", effective_at=now
    )
    owner_client.post("/conversations/c-old/delete/", YES)
    response = owner_client.get("/api/me/export")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(b"".join(response.streaming_content))
    assert data["account"]["email"] == "owner@example.com"
    assert [c["id"] for c in data["conversations"]] == ["c-new", "c-mid"]
    assert data["conversations"][0]["messages"][0]["content"] == "hello"
    assert [d["id"] for d in data["deleted_awaiting_purge"]] == ["c-old"]
    assert "title" not in data["deleted_awaiting_purge"][0]
    assert data["consent_history"][0]["allowed"] is True
    assert set(data) >= {"feedback", "deletion_receipts", "staff_access"}
    assert "Someone else" not in json.dumps(data)


def test_staff_access_section_shows_role_time_and_reason_but_never_the_staff_member(
    owner, owner_client
):
    staff = StaffFactory(email="agent.smith@corp.example")
    AccessLog.objects.create(
        staff=staff,
        role=StaffRole.SUPPORT_AGENT,
        account=owner,
        reason="Ticket 881",
        data_kind=DataKind.TITLES,
        outcome=Outcome.GRANTED,
    )
    AccessLog.objects.create(
        staff=staff,
        role=StaffRole.SUPPORT_AGENT,
        account=owner,
        reason="Denied peek",
        data_kind=DataKind.NONE,
        outcome=Outcome.DENIED,
    )
    body = owner_client.get("/").content.decode()
    assert "Support agent" in body and "Ticket 881" in body
    assert "Denied peek" not in body
    assert "agent.smith" not in body


def test_staff_accesses_show_even_behind_more_of_the_users_own_rows_than_the_list_holds(
    owner, owner_client
):
    """The list is limited (RECENT_LIMIT); the user's own rows used to be
    dropped after the SQL LIMIT, so 50 of them hid every staff access the
    export still showed."""
    staff = StaffFactory()
    older = timezone.now() - timedelta(days=1)
    AccessLog.objects.create(
        at=older,
        staff=staff,
        role=StaffRole.SUPPORT_AGENT,
        account=owner,
        reason="Ticket 990",
        data_kind=DataKind.METADATA,
        outcome=Outcome.GRANTED,
    )
    AccessLog.objects.bulk_create(
        AccessLog(
            staff=owner,
            role=StaffRole.END_USER,
            account=owner,
            reason="",
            data_kind=DataKind.METADATA,
            outcome=Outcome.GRANTED,
        )
        for _ in range(RECENT_LIMIT + 5)
    )
    assert "Ticket 990" in owner_client.get("/").content.decode()
    export = json.loads(b"".join(owner_client.get("/api/me/export").streaming_content))
    assert [row["reason"] for row in export["staff_access"]] == ["Ticket 990"]


def test_commercial_account_cannot_flip_consumer_consent_and_sees_no_consumer_dates(
    db, add_message, now
):
    user = CommercialUserFactory()
    add_message(user, now - timedelta(days=1), conversation="w1", title="Work")
    client = Client()
    client.force_login(user)
    assert client.post("/consent/", {"allowed": "true", "confirm": "on"}).status_code == 400
    assert not ConsentChange.objects.filter(user=user).exists()
    body = text(client.get("/conversations/w1/"))
    assert "consumer retention policy does not govern" in body
    assert "Kept until" not in body and CAVEAT not in body


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conversations/",
        "/conversations/c-new/",
        "/consent/",
        "/deleted/",
        "/feedback/",
        "/policy/",
    ],
)
def test_pages_have_no_inline_script_or_style(owner_client, history, path):
    body = owner_client.get(path).content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", body) == []
    assert " style=" not in body and "<style" not in body and " on" + "click=" not in body
