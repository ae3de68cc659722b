"""The conversation pages as a person meets them: every delete asks first
(a confirmation page without JavaScript, the dialog's fragment with htmx)
and names what goes and what the policy keeps longer; nothing ticked is a
message next to the button; search finds titles and message text, says how
many match and pages both ways; the conversation page shows its messages."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from retention.models import Conversation
from retention.services.conversations import conversation_flag, feedback_submit
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
YES = {"confirm": "yes"}


def deleted_ids(user):
    return set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# --- Deletes ask first -------------------------------------------------------


def test_deleting_one_without_confirm_shows_a_confirmation_page_and_deletes_nothing(
    owner, owner_client, history
):
    response = owner_client.post("/conversations/c-new/delete/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1" in body and "Delete “Tax &lt;b&gt;question&lt;/b&gt;”?" in body
    assert "leaves your history at once" in text(response)
    # The same form again, with confirm=yes, and a danger confirm and a Cancel.
    assert 'action="/conversations/c-new/delete/"' in body
    assert '<input type="hidden" name="confirm" value="yes">' in body
    assert '<button type="submit" class="danger">Delete this conversation</button>' in body
    assert 'href="/conversations/"' in body and "Cancel" in body
    assert "Deleted from our back-end storage systems within 30 days" in body
    assert deleted_ids(owner) == set()

    response = owner_client.post("/conversations/c-new/delete/", YES)
    assert response.status_code == 302
    assert deleted_ids(owner) == {"c-new"}


def test_confirming_from_the_conversation_page_cancels_back_to_it(owner, owner_client, history):
    response = owner_client.post("/conversations/c-new/delete/", {"from": "conversation"})
    body = response.content.decode()
    assert 'href="/conversations/c-new/"' in body
    assert '<input type="hidden" name="from" value="conversation">' in body
    assert deleted_ids(owner) == set()


def test_with_htmx_the_confirmation_is_the_dialogs_fragment(owner, owner_client, history):
    response = owner_client.post("/conversations/c-new/delete/", **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#confirm-dialog-body"
    assert response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "<html" not in body and '<h2 id="confirm-title">' in body
    assert 'hx-post="/conversations/c-new/delete/" hx-target="#listing"' in body
    assert deleted_ids(owner) == set()
    # The dialog's own request acts and answers the updated list with its message.
    response = owner_client.post("/conversations/c-new/delete/", YES, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="listing">')
    assert "Deleted 1 conversation." in body
    assert "2 conversations in your history" in body
    assert deleted_ids(owner) == {"c-new"}


def test_the_confirmation_names_what_the_policy_keeps_longer(owner, owner_client, history, now):
    conversation_flag(
        conversation=Conversation.objects.get(external_id="c-old"), flagged_at=now, scores={}
    )
    feedback_submit(
        user=owner,
        external_id="f1",
        kind="thumbs_up",
        comment="",
        excerpt="",
        submitted_at=now,
        conversation_external_id="c-mid",
    )
    response = owner_client.post("/delete/selected/", {"ids": ["c-old", "c-mid", "c-new"]})
    assert response.status_code == 200
    page = text(response)
    assert "Delete 3 selected conversations?" in page
    assert "Old trip plans" in page and "Recipe ideas" in page
    assert "What the policy keeps longer" in page
    assert "1 of them was flagged by our trust and safety classifiers" in page
    assert "kept up to 2 years from the flag" in page and "up to 7 years" in page
    assert "You sent 1 piece of feedback about them" in page and "5 years" in page
    # Each with the article's own sentence.
    assert "trust and safety classification scores for up to 7 years" in page
    assert "we retain data associated with that submission for 5 years" in page
    body = response.content.decode()
    for conversation_id in ("c-old", "c-mid", "c-new"):
        assert f'<input type="hidden" name="ids" value="{conversation_id}">' in body
    assert deleted_ids(owner) == set()


def test_nothing_ticked_is_a_message_next_to_the_button(owner, owner_client, history):
    response = owner_client.post("/delete/selected/", {}, **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#select-error"
    assert response.content.decode().strip() == "Select at least one conversation to delete."
    # Without JavaScript: the list again, with the message by the button.
    response = owner_client.post("/delete/selected/", {})
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        '<span id="select-error" class="error-text" aria-live="assertive">'
        "Select at least one conversation to delete.</span>" in body
    )
    assert "Tax &lt;b&gt;question&lt;/b&gt;" in body  # the list is still there
    assert deleted_ids(owner) == set()


def test_delete_all_keeps_its_typed_phrase_and_then_asks(owner, other, owner_client, history):
    response = owner_client.post("/delete/all/", {"confirmation": "nope"})
    assert response.status_code == 400 and "exactly to delete everything" in text(response)
    response = owner_client.post("/delete/all/", {"confirmation": "delete all"})
    assert response.status_code == 200
    assert "Delete all 3 conversations?" in text(response)
    assert '<input type="hidden" name="confirmation" value="delete all">' in (
        response.content.decode()
    )
    assert deleted_ids(owner) == set()
    owner_client.post("/delete/all/", {"confirmation": "delete all", **YES})
    assert deleted_ids(owner) == {"c-new", "c-mid", "c-old"} and deleted_ids(other) == set()


def test_another_users_ids_are_not_found_at_either_step(owner, other, owner_client, history):
    assert owner_client.post("/conversations/c-theirs/delete/").status_code == 404
    assert owner_client.post("/conversations/c-theirs/delete/", YES).status_code == 404
    for data in ({"ids": ["c-new", "c-theirs"]}, {"ids": ["c-new", "c-theirs"], **YES}):
        assert owner_client.post("/delete/selected/", data).status_code == 404
    assert deleted_ids(owner) == set() and deleted_ids(other) == set()


def test_select_all_matching_deletes_every_match_on_every_page(
    owner, owner_client, add_message, now
):
    for i in range(30):
        add_message(owner, now - timedelta(hours=i), conversation=f"t{i:02d}", title=f"Tax {i}")
    add_message(owner, now - timedelta(days=9), conversation="keep", title="Garden")
    page = owner_client.get("/conversations/?q=tax").content.decode()
    assert "Select all 30 matching conversations, on every page" in page
    data = {"all_matching": "yes", "q": "tax"}
    response = owner_client.post("/delete/selected/", data)
    assert "Delete 30 selected conversations?" in text(response)
    assert deleted_ids(owner) == set()
    owner_client.post("/delete/selected/", {**data, **YES})
    assert deleted_ids(owner) == {f"t{i:02d}" for i in range(30)}


# --- Search, counts and pages ---------------------------------------------------


def test_search_finds_message_content_and_says_how_many_match(
    owner, owner_client, add_message, now
):
    add_message(owner, now - timedelta(days=1), conversation="a", title="Budget", content="my tax")
    add_message(owner, now - timedelta(days=2), conversation="b", title="Tax return", content="hi")
    add_message(owner, now - timedelta(days=3), conversation="c", title="Garden", content="roses")
    response = owner_client.get("/conversations/?q=TAX")
    page = text(response)
    assert "2 conversations match “TAX”" in page
    assert "Budget" in page and "Tax return" in page and "Garden" not in page
    assert "1 conversation matches “roses”" in text(owner_client.get("/conversations/?q=roses"))
    assert "3 conversations in your history" in text(owner_client.get("/conversations/"))


def test_search_reads_no_other_users_messages(owner, other, owner_client, add_message, now):
    add_message(other, now, conversation="x", title="Theirs", content="secret plan")
    add_message(owner, now, conversation="y", title="Mine", content="nothing")
    assert "0 conversations match" in text(owner_client.get("/conversations/?q=secret"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's")
def test_the_search_indexes_exist_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('conv_title_trgm_idx', 'msg_content_trgm_idx')"
        )
        found = dict(cursor.fetchall())
    assert set(found) == {"conv_title_trgm_idx", "msg_content_trgm_idx"}
    assert all("gin_trgm_ops" in definition for definition in found.values())


def test_pages_go_both_ways(owner, owner_client, add_message, now):
    for i in range(60):
        add_message(
            owner, now - timedelta(hours=i), conversation=f"p{i:02d}", title=f"Chat {i:02d}"
        )

    def titles(body: str) -> list[str]:
        return re.findall(r">(Chat \d\d)</a>", body)

    first = owner_client.get("/conversations/").content.decode()
    assert titles(first) == [f"Chat {i:02d}" for i in range(25)]
    assert "Newer conversations" not in first
    cursor = re.search(r"cursor=([\w-]+)", first).group(1)
    second = owner_client.get(f"/conversations/?cursor={cursor}").content.decode()
    assert titles(second) == [f"Chat {i:02d}" for i in range(25, 50)]
    before = re.search(r"before=([\w-]+)", second).group(1)
    back = owner_client.get(f"/conversations/?before={before}").content.decode()
    assert titles(back) == titles(first)
    assert "Newer conversations" not in back and "Older conversations" in back
    assert owner_client.get(f"/conversations/?before={before}&cursor={cursor}").status_code == 400
    assert owner_client.get("/conversations/?before=garbage").status_code == 400


# --- The conversation page ------------------------------------------------------


def test_conversation_page_shows_its_messages_with_role_and_time(
    owner, owner_client, add_message, now
):
    add_message(owner, now - timedelta(hours=2), conversation="m", title="T", content="<b>hi</b>")
    add_message(owner, now - timedelta(hours=1), conversation="m", title="T", content="answer")
    body = owner_client.get("/conversations/m/").content.decode()
    assert "The portal stores 2 messages of this conversation." in body
    assert '<div class="transcript-content">&lt;b&gt;hi&lt;/b&gt;</div>' in body
    assert body.index("&lt;b&gt;hi") < body.index("answer")
    assert "<strong>User</strong>" in body and "UTC</time>" in body


def test_a_long_conversation_pages_its_messages(owner, owner_client, add_message, now):
    for i in range(55):
        add_message(
            owner, now - timedelta(minutes=60 - i), conversation="long", content=f"n{i:02d}"
        )
    first = owner_client.get("/conversations/long/").content.decode()
    assert "n00" in first and "n49" in first and "n50" not in first
    cursor = re.search(r"\?cursor=([\w-]+)", first).group(1)
    later = owner_client.get(f"/conversations/long/?cursor={cursor}").content.decode()
    assert "n50" in later and "n54" in later and "n49" not in later
    assert "Earlier messages" in later


def test_another_users_conversation_page_is_not_found(other, owner_client, history):
    assert owner_client.get("/conversations/c-theirs/").status_code == 404


def test_the_delete_buttons_are_secondary_until_the_confirmation(owner_client, history):
    listing = owner_client.get("/conversations/").content.decode()
    page = owner_client.get("/conversations/c-new/").content.decode()
    assert 'class="danger' not in listing and 'class="danger' not in page
    assert 'class="secondary small"' in listing


@pytest.fixture
def stranger_client(db):
    client = Client()
    client.force_login(UserFactory())
    return client


def test_a_user_without_conversations_sees_zero_and_nothing_to_confirm(stranger_client):
    assert "0 conversations in your history" in text(stranger_client.get("/conversations/"))
    response = stranger_client.post("/delete/all/", {"confirmation": "delete all"})
    assert response.status_code == 302  # nothing to ask about, nothing deleted
