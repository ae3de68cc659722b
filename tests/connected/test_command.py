"""manage.py connected_system: add, list, rotate, disable; --json; bad input."""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connected import credentials
from connected.models import ApiKey, ConnectedSystem
from connected.selectors import api_key_find
from tests.connected.conftest import ROOT

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command("connected_system", *args, stdout=out)
    return out.getvalue().splitlines()


def test_add_with_json_ends_with_one_object_holding_a_secret_and_a_key():
    lines = run(
        "add", "warehouse", "--url", "https://wh.example/hooks",
        "--events", "conversation.deleted,conversation.purged", "--confirms-erasure", "--json",
    )  # fmt: skip
    created = json.loads(lines[-1])
    assert set(created) == {"id", "name", "signing_secret", "api_key"}
    system = ConnectedSystem.objects.get(pk=created["id"])
    assert system.name == created["name"] == "warehouse"
    assert system.url == "https://wh.example/hooks"
    assert system.events == ["conversation.deleted", "conversation.purged"]
    assert system.confirms_erasure and system.enabled
    assert created["signing_secret"].startswith("whsec_")
    assert api_key_find(key=created["api_key"]).system == system


def test_the_key_is_stored_hashed_and_every_scope_is_granted_by_default():
    created = json.loads(run("add", "chat", "--events", "consent.changed", "--json")[-1])
    key = ApiKey.objects.get()
    assert created["api_key"] not in (key.prefix, key.key_hash)
    assert key.key_hash == credentials.api_key_hash(created["api_key"])
    assert key.scopes == list(credentials.SCOPES)


def test_scopes_narrow_the_key():
    run("add", "chat", "--events", "consent.changed", "--scopes", "changes,erasures")
    assert ApiKey.objects.get().scopes == ["changes", "erasures"]


def test_without_json_the_secret_and_key_are_printed_once_with_a_warning():
    lines = run("add", "chat", "--events", "consent.changed")
    assert any(line.startswith("signing secret: whsec_") for line in lines)
    assert any(line.startswith("API key:") for line in lines)
    assert "not shown again" in lines[-1]


def test_list_shows_each_system_without_its_secret():
    created = json.loads(run("add", "chat", "--events", "consent.changed", "--json")[-1])
    run("add", "lake", "--url", "https://lake.example/", "--events", "conversation.deleted")
    lines = run("list")
    assert [line.split("\t")[0] for line in lines] == ["chat", "lake"]
    assert "(pulls the feed)" in lines[0] and "https://lake.example/" in lines[1]
    assert all(created["signing_secret"] not in line for line in lines)


def test_rotate_prints_a_new_secret_and_key_and_keeps_the_old_key_valid():
    old = json.loads(run("add", "chat", "--events", "consent.changed", "--json")[-1])
    new = json.loads(run("rotate", "chat", "--json")[-1])
    assert new["id"] == old["id"]
    assert new["signing_secret"] != old["signing_secret"]
    assert new["api_key"] != old["api_key"]
    assert api_key_find(key=old["api_key"]) is not None
    assert api_key_find(key=new["api_key"]) is not None
    system = ConnectedSystem.objects.get()
    assert system.previous_signing_secret == old["signing_secret"]


def test_disable_turns_a_system_off():
    run("add", "chat", "--events", "consent.changed")
    run("disable", "chat")
    assert not ConnectedSystem.objects.get().enabled


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "x", "--events", "conversation.archived"), "unknown event type"),
        (("add", "x", "--events", "consent.changed", "--url", "ftp://x.example"), "not an http"),
        (("add", "x", "--events", "consent.changed", "--url", "not a url"), "not an http"),
        (("add", "x", "--events", "consent.changed", "--scopes", "admin"), "unknown scope"),
        (("add", "chat", "--events", "consent.changed"), "exists already"),
        (("rotate", "nobody"), "no connected system named 'nobody'"),
        (("disable", "nobody"), "no connected system named 'nobody'"),
    ],
)
def test_bad_input_is_refused_with_one_line_saying_why(args, message):
    run("add", "chat", "--events", "consent.changed")
    with pytest.raises(CommandError, match=message) as refused:
        run(*args)
    assert "\n" not in str(refused.value)
    assert ConnectedSystem.objects.count() == 1


def test_bad_input_exits_1_from_the_shell(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "connected_system", "add", "x", "--events", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: unknown event type 'nope'; known: conversation.deleted, consent.changed, "
        "conversation.purged, scores.purged, feedback.purged"
    ]
