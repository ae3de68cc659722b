"""The import_events command: JSON Lines through the same service as the API."""

import io
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from ingest.models import IngestedEvent
from retention.models import Conversation, Message, Rule
from tests.factories import utc
from tests.ingest import builders as b

pytestmark = pytest.mark.django_db


def _write(path, events, *, extra_lines=()) -> str:
    lines = [json.dumps(e) for e in events] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _history() -> list[dict]:
    return [
        b.account_upserted("acct-1", "2026-01-01T00:00:00Z"),
        b.consent_changed(True, "2026-01-05T00:00:00Z"),
        b.message_added("2026-01-03T09:00:00Z", conversation="conv-1"),
        b.message_added("2026-01-10T12:00:00Z", conversation="conv-1"),
        b.message_added("2026-01-02T00:00:00Z", conversation="conv-2"),
    ]


def _run(*args) -> str:
    out = io.StringIO()
    call_command("import_events", *args, stdout=out)
    return out.getvalue().strip()


def test_a_good_file_is_imported_and_summarised(tmp_path):
    path = _write(tmp_path / "events.jsonl", _history())
    assert _run(path) == f"5 events read from {path}: 5 accepted, 0 duplicates"
    chat = Conversation.objects.get(external_id="conv-1")
    assert (chat.rule, chat.retain_until) == (Rule.SHARED_TRAINING, utc(2031, 1, 10, 12))
    assert Message.objects.count() == 3


def test_running_the_same_file_again_applies_nothing_twice(tmp_path):
    path = _write(tmp_path / "events.jsonl", _history())
    _run(path)
    assert _run(path).endswith("0 accepted, 5 duplicates")
    assert Message.objects.count() == 3


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(tmp_path):
    events = _history()
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(events[0]) + "\n\n   \n" + "\n".join(json.dumps(e) for e in events[1:]) + "\n",
        encoding="utf-8",
    )
    assert _run(str(path)).endswith("5 accepted, 0 duplicates")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 4: not valid JSON"),
        (
            json.dumps(b.message_added("2026-01-04T00:00:00Z", role="robot")),
            "line 4, field message.role: Input should be 'user' or 'assistant'",
        ),
        (
            json.dumps(b.message_added("2026-01-04T00:00:00Z", account="ghost")),
            "line 4, field account: unknown account 'ghost'",
        ),
        (
            '{"id": "x", "type": "consent.changed"}',
            "line 4, field at: this field is required (and 2 more problems in this chunk)",
        ),
    ],
    ids=["json", "shape", "reference", "several"],
)
def test_a_bad_line_fails_with_one_line_naming_it_and_applies_nothing(tmp_path, bad_line, message):
    events = _history()
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(e) for e in events[:3]] + [bad_line] + [json.dumps(e) for e in events[3:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        _run(str(path))
    text = str(exc.value)
    assert text.startswith(message), text
    assert "nothing was applied" in text
    assert "\n" not in text
    assert not User.objects.exists()
    assert not IngestedEvent.objects.exists()


def test_a_bad_line_in_a_later_chunk_keeps_earlier_chunks_and_a_fixed_rerun_finishes(tmp_path):
    events = _history()
    bad = b.message_added("2026-01-11T00:00:00Z", kind="voice")
    path = _write(tmp_path / "events.jsonl", [*events, bad])
    with pytest.raises(CommandError) as exc:
        _run(path, "--chunk-size", "2")
    assert str(exc.value).startswith("line 6, field conversation.kind:")
    assert "4 events of earlier lines were applied" in str(exc.value)
    # Chunks [1-2] and [3-4] are in; [5-6] (with the bad line) is not.
    assert IngestedEvent.objects.count() == 4
    assert Message.objects.count() == 2

    bad["conversation"]["kind"] = "chat"
    _write(tmp_path / "events.jsonl", [*events, bad])
    assert _run(path, "--chunk-size", "2").endswith("2 accepted, 4 duplicates")
    assert Message.objects.count() == 4


def test_the_command_exits_non_zero_on_a_bad_line(tmp_path):
    path = _write(tmp_path / "events.jsonl", [b.consent_changed(True, "2026-01-02T00:00:00")])
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_events", path],
        capture_output=True,
        text=True,
        env={
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "sqlite:///:memory:",
        },
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [
        "CommandError: line 1, field at: must be an ISO 8601 datetime with a time zone; nothing was applied"
    ]


def test_events_can_be_read_from_standard_input(monkeypatch):
    data = "\n".join(json.dumps(e) for e in _history()).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _run("-") == "5 events read from -: 5 accepted, 0 duplicates"


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.jsonl: No such file"):
        _run(str(tmp_path / "missing.jsonl"))


@pytest.mark.parametrize("size", ["0", "1001"])
def test_chunk_size_is_bounded(tmp_path, size):
    path = _write(tmp_path / "events.jsonl", _history())
    with pytest.raises(CommandError, match="--chunk-size must be between 1 and 1000"):
        _run(path, "--chunk-size", size)
