"""/export/: a zip holding index.html (readable, no script, everything
escaped), data.json (the /api/me/export document, indented) and README.txt
(every field explained), built in bounded memory."""

import io
import json
import re
import tracemalloc
import zipfile
from datetime import timedelta

import pytest

from accounts.roles import StaffRole
from accounts.services import consent_record
from retention.models import Conversation, TrainingRun, TrainingRunConversation
from retention.services.conversations import conversation_flag, feedback_submit
from staff.models import AccessLog, DataKind, Outcome
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _zip(client) -> zipfile.ZipFile:
    response = client.get("/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def full_history(owner, history, add_message, now):
    add_message(
        owner,
        now - timedelta(hours=5),
        conversation="c-new",
        title="Tax <b>question</b>",
        content="<script>x</script>",
    )
    consent_record(user=owner, allowed=True, source="dashboard", article_version="v1")
    conversation_flag(
        conversation=Conversation.objects.get(external_id="c-mid"),
        flagged_at=now,
        scores={"secret_score_name": 0.987654},
    )
    feedback_submit(
        user=owner,
        external_id="fb-1",
        kind="bug_report",
        comment="It broke",
        excerpt="the part",
        submitted_at=now,
    )
    run = TrainingRun.objects.create(external_id="run-1", name="Run Alpha", started_at=now)
    TrainingRunConversation.objects.create(
        run=run,
        conversation=Conversation.objects.get(external_id="c-old"),
        conversation_external_id="c-old",
        user=owner,
    )
    AccessLog.objects.create(
        staff=StaffFactory(),
        role=StaffRole.SUPPORT_AGENT,
        account=owner,
        reason="Ticket 881",
        data_kind=DataKind.METADATA,
        outcome=Outcome.GRANTED,
    )
    return history


def test_the_zip_holds_the_three_files(owner_client, full_history):
    assert sorted(_zip(owner_client).namelist()) == ["README.txt", "data.json", "index.html"]


def test_data_json_is_the_api_document_indented(owner_client, full_history):
    raw = _zip(owner_client).read("data.json").decode()
    api = json.loads(b"".join(owner_client.get("/api/me/export").streaming_content))
    data = json.loads(raw)
    data.pop("exported_at"), api.pop("exported_at")
    assert data == api
    assert raw.startswith('{\n  "exported_at": ')  # indented, not one line
    assert "secret_score_name" not in raw and "0.987654" not in raw  # scores withheld
    assert {w["what"] for w in data["withheld"]} >= {
        "Trust and safety classification scores (the classifiers' values)"
    }
    assert [f["conversation_id"] for f in data["flags"]] == ["c-mid"]
    assert data["training_runs"][0]["run"] == "Run Alpha"


def test_index_html_reads_offline_with_every_conversation_and_message(owner_client, full_history):
    archive = _zip(owner_client)
    html = archive.read("index.html").decode()
    data = json.loads(archive.read("data.json"))
    assert "<script" not in html.lower()
    assert "&lt;script&gt;x&lt;/script&gt;" in html  # the user's text, escaped
    assert "Tax &lt;b&gt;question&lt;/b&gt;" in html
    for conversation in data["conversations"]:
        assert f'id="c-{conversation["id"]}"' in html
        for message in conversation["messages"]:
            assert _html_text(message["content"]) in html
    assert "Someone else" not in html
    # Dates and reasons in words, not codes.
    assert re.search(r"Kept until \d{1,2} [A-Z][a-z]+ \d{4}", html)
    assert "Why: Not shared for training." in html
    assert "If you choose not to allow us to use your chats" in html
    assert "Ticket 881" in html and "Support agent" in html
    assert "What this export leaves out, and why" in html
    assert "not_shared" not in html and "T00:" not in html


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_readme_explains_every_field_of_data_json(owner_client, full_history):
    archive = _zip(owner_client)
    readme = archive.read("README.txt").decode()
    data = json.loads(archive.read("data.json"))
    missing = [key for key in _keys(data) if not re.search(rf"\b{re.escape(key)}\b", readme)]
    assert missing == []
    assert set(data) <= {line.split()[0] for line in readme.splitlines() if line[:1].isalpha()}


def test_a_commercial_account_gets_no_consumer_dates(client, add_message, now):
    from tests.factories import CommercialUserFactory

    user = CommercialUserFactory()
    add_message(user, now - timedelta(days=1), conversation="w1", title="Work")
    client.force_login(user)
    html = _zip(client).read("index.html").decode()
    assert "commercial terms decide" in html and "Kept until" not in html


def _export_peak(client) -> int:
    """Peak Python memory of one export, first-request imports excluded."""
    tracemalloc.start()
    try:
        response = client.get("/export/")
        size = sum(len(chunk) for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 0
    return peak


def test_the_zip_is_built_in_bounded_memory(owner, owner_client, now):
    """Peak memory does not grow with the history: it streams rows in chunks
    into a spooled file. Five times the conversations (2,500 with 7,500
    messages, about 3 MB of text) cost about the same peak as 500."""
    _bulk_history(owner, 500, now, start=0)
    b"".join(owner_client.get("/export/").streaming_content)  # warm: imports, caches
    small = _export_peak(owner_client)
    _bulk_history(owner, 2000, now, start=500)
    large = _export_peak(owner_client)
    assert large < small * 1.5 + 1024 * 1024, (small, large)
    assert large < 8 * 1024 * 1024


def _bulk_history(owner, n, now, start=0):
    from retention.models import Message

    conversations = Conversation.objects.bulk_create(
        Conversation(
            user=owner,
            external_id=f"bulk-{i}",
            kind="chat",
            title=f"Bulk {i}",
            created_at=now - timedelta(days=2),
            last_activity_at=now - timedelta(days=1),
            rule="not_shared",
            public_rule="not_shared",
            retain_until=now + timedelta(days=29),
            public_retain_until=now + timedelta(days=29),
        )
        for i in range(start, start + n)
    )
    Message.objects.bulk_create(
        Message(
            conversation=c,
            external_id=f"bulk-m-{c.external_id}-{j}",
            role="user",
            content="x" * 400,
            sent_at=now - timedelta(days=1),
        )
        for c in conversations
        for j in range(3)
    )


def test_the_export_is_no_store_and_needs_sign_in(client, owner_client, history):
    assert owner_client.get("/export/")["Cache-Control"].count("no-store") >= 1
    assert client.get("/export/").status_code == 302
