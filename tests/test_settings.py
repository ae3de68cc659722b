"""Configuration behaves as the README's table says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start_with_one_line():
    result = run_manage("check")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: SECRET_KEY must be set when DEBUG is off."
    ]


@pytest.mark.parametrize("debug", ["1", "true"])
def test_debug_runs_without_a_secret_key(debug, tmp_path):
    result = run_manage("check", DEBUG=debug, PORTAL_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


# A broker round trip as `make run`'s worker makes one: a queue bound to an
# exchange (kombu keeps the binding in a file), a message sent and taken.
BROKER_ROUND_TRIP = """
import json
from kombu import Exchange, Queue
from django.conf import settings
from privacy_portal.celery import app

with app.connection_for_write() as connection:
    exchange = Exchange("celery", type="direct")
    queue = Queue("celery", exchange, routing_key="celery")
    connection.Producer().publish(
        {"probe": 1}, exchange=exchange, routing_key="celery", declare=[queue]
    )
    message = queue(connection.default_channel).get()
    assert message.payload == {"probe": 1}
    message.ack()
print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))
"""


def test_the_filesystem_broker_writes_every_folder_under_var_dir(tmp_path):
    var_dir, elsewhere = tmp_path / "var", tmp_path / "cwd"
    elsewhere.mkdir()
    result = run_manage(
        "shell",
        "-c",
        BROKER_ROUND_TRIP,
        cwd=elsewhere,
        DEBUG="true",
        PORTAL_VAR_DIR=str(var_dir),
        CELERY_BROKER_URL="filesystem://",
    )
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.splitlines()[-1])
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).is_relative_to(var_dir), (key, options[key])
    assert list(Path(options["control_folder"]).iterdir()), "no exchange table written"
    # kombu's folders default to the working directory (./control, ./data_in).
    assert list(elsewhere.iterdir()) == []


# The deployment check (`check --deploy`) is in tests/security/test_production_settings.py.
