"""The article always true: every duration it states is the policy setting in
force (policy page, quotes, /api/me/); a settings change publishes a new
version (history on the policy page, a notice on the overview until read,
recorded with later consent changes); admin previews a change and asks for
a typed confirmation when it would purge anything."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ConsentChange
from dashboard.presentation import date_text
from retention.models import Conversation, PolicyDocument, PolicyNoticeRead, PolicySettingChange
from retention.policy import Durations
from retention.policy.article import (
    ARTICLE,
    DURATION_PATTERN,
    DURATION_PHRASES,
    quotes_for,
    render_sentence,
)
from retention.purge import purge_due
from retention.selectors.documents import current_article_version
from retention.selectors.settings import DURATION_FIELDS
from retention.services.conversations import conversations_delete
from retention.services.policy_settings import policy_settings_update
from tests.factories import UserFactory
from tests.support.helpers import make_privacy_admin

DAY = timedelta(days=1)
SETTINGS_URL = "/admin/retention/policysettings/1/change/"


def test_every_duration_phrase_of_the_article_is_mapped_to_a_setting():
    for quote in ARTICLE.sentences():
        stated = DURATION_PATTERN.findall(quote.text)
        mapped = [phrase for phrase, _, _ in DURATION_PHRASES.get(quote.text, ())]
        assert stated == mapped, quote.text
        for phrase in mapped:  # replaced exactly where it stands
            assert quote.text.count(phrase) == 1
    fields = [field for phrases in DURATION_PHRASES.values() for _, field, _ in phrases]
    assert sorted(fields) == sorted(DURATION_FIELDS)
    # Each default is the phrase as shipped; each mapped sentence is a line of the text.
    for sentence, phrases in DURATION_PHRASES.items():
        assert render_sentence(sentence, Durations()) == sentence
        assert sentence in ARTICLE.text
        for phrase, field, _ in phrases:
            assert phrase.startswith(f"{getattr(Durations(), field)} ")


def test_quotes_state_the_durations_given():
    quotes = quotes_for("flagged", Durations(flagged_content_years=3, flagged_scores_years=1))
    assert "for up to 3 years and" in quotes[0].text
    assert "for up to 1 year if" in quotes[0].text


@pytest.mark.django_db
def test_after_a_settings_change_the_article_states_the_new_values(consumer, add_message):
    add_message(consumer, timezone.now() - DAY, conversation="c1")
    policy_settings_update(changes={"not_shared_days": 45, "deleted_days": 14}, changed_by=None)

    page = Client().get("/policy/").content.decode()
    assert "for up to 45 days." in page and "within 14 days" in page
    assert "up to 30 days" not in page and "within 30 days" not in page

    client = Client()
    client.force_login(consumer)
    detail = client.get("/conversations/c1/").content.decode()
    assert "for up to 45 days." in detail
    explanation = client.get("/api/me/conversations").json()["conversations"][0]["explanation"]
    assert any("for up to 45 days." in q["quote"] for q in explanation)
    assert not any("30 days" in q["quote"] for q in explanation)


@pytest.mark.django_db
def test_a_settings_change_publishes_a_version_noted_on_the_overview_until_read(consumer):
    shipped = current_article_version()
    policy_settings_update(changes={"deleted_days": 14}, changed_by=None)

    document = PolicyDocument.objects.get(is_current=True)
    assert document.version != shipped
    what = "deleted chats are removed from our systems within 14 days (was 30 days)"
    assert document.changes == what
    history = Client().get("/policy/").content.decode()
    assert "Version history" in history and what.capitalize() in history
    assert "The article as first published." in history

    client = Client()
    client.force_login(consumer)
    # The change is the article's own wording, marked as English on any page.
    notice = (
        f"Our retention policy changed on {date_text(document.effective_at)}: "
        f'<span lang="en">{what}</span>.'
    )
    assert notice in client.get("/").content.decode()
    assert notice in client.get("/").content.decode()  # until read
    # Dismissed by a plain form POST (no JavaScript), recorded per user.
    response = client.post(f"/policy/notice/{document.version}/read/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert PolicyNoticeRead.objects.filter(user=consumer, document=document).exists()
    assert "Our retention policy changed" not in client.get("/").content.decode()
    # Someone else has not read it.
    other = Client()
    other.force_login(UserFactory(date_joined=timezone.now() - DAY))
    assert notice in other.get("/").content.decode()
    # A user who joined after the change is not told about it.
    newcomer = Client()
    newcomer.force_login(UserFactory(date_joined=timezone.now() + DAY))
    assert "Our retention policy changed" not in newcomer.get("/").content.decode()
    assert client.post("/policy/notice/no-such-version/read/").status_code == 404


@pytest.mark.django_db
def test_a_consent_change_after_a_settings_change_records_the_new_version(consumer):
    policy_settings_update(changes={"shared_training_years": 3}, changed_by=None)
    new_version = PolicyDocument.objects.get(is_current=True).version
    client = Client()
    client.force_login(consumer)

    client.post("/consent/", {"allowed": "true", "confirm": "1"})
    assert ConsentChange.objects.get(user=consumer).article_version == new_version


@pytest.mark.django_db
def test_admin_previews_a_change_and_asks_to_type_purge_when_it_would_purge(consumer, add_message):
    now = timezone.now()
    add_message(consumer, now - 40 * DAY, conversation="old")  # not shared: 10 days overdue
    add_message(consumer, now - 2 * DAY, conversation="deleted")
    conversations_delete(
        user=consumer,
        conversations=Conversation.objects.filter(external_id="deleted"),
        deleted_at=now - 20 * DAY,
    )
    purge_due()  # "old" goes; "deleted" is due in 10 days
    before = Conversation.objects.get(external_id="deleted").retain_until
    admin = Client()
    admin.force_login(make_privacy_admin())
    form = {"not_shared_days": 30, "shared_training_years": 5, "deleted_days": 14}
    form |= {"flagged_content_years": 2, "flagged_scores_years": 7, "feedback_years": 5}

    preview = unescape(admin.post(SETTINGS_URL, form).content.decode())
    assert "This change moves 1 deadlines, and 1 items become due at once" in preview
    assert 'type "purge" below and save again' in preview
    assert 'value="deleted_days=14"' in preview  # the change previewed, carried along
    assert Conversation.objects.get(external_id="deleted").retain_until == before
    assert not PolicySettingChange.objects.exists()  # nothing written

    unconfirmed = admin.post(SETTINGS_URL, form | {"previewed": "deleted_days=14"})
    assert unconfirmed.status_code == 200
    assert 'Type "purge" below to confirm' in unescape(unconfirmed.content.decode())
    assert not PolicySettingChange.objects.exists()

    confirmed = admin.post(
        SETTINGS_URL, form | {"previewed": "deleted_days=14", "confirm": "purge"}
    )
    assert confirmed.status_code == 302
    assert PolicySettingChange.objects.get().new_value == 14
    assert purge_due().conversations == 1


@pytest.mark.django_db
def test_a_change_that_purges_nothing_needs_no_typed_word(consumer, add_message):
    add_message(consumer, timezone.now() - DAY, conversation="fresh")
    admin = Client()
    admin.force_login(make_privacy_admin())
    form = {name: getattr(Durations(), name) for name in DURATION_FIELDS} | {"not_shared_days": 60}

    preview = unescape(admin.post(SETTINGS_URL, form).content.decode())
    assert "This change moves 1 deadlines, and 0 items become due at once." in preview
    assert re.search(r"save again to apply it", preview)
    assert admin.post(SETTINGS_URL, form | {"previewed": "not_shared_days=60"}).status_code == 302


@pytest.mark.django_db
def test_dismissing_with_htmx_re_renders_just_the_emptied_notice(consumer):
    policy_settings_update(changes={"feedback_years": 4}, changed_by=None)
    version = PolicyDocument.objects.get(is_current=True).version
    client = Client()
    client.force_login(consumer)

    response = client.post(f"/policy/notice/{version}/read/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="policy-notice"' in body and "<h1>" not in body
    assert "Our retention policy changed" not in body
