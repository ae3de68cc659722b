"""CELERY_QUEUES_BY_KIND sends each kind of task to its own queue
(docs/scale.md); off, everything stays on Celery's default queue, the one
`make run`'s worker reads."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = [
    "retention.tasks.enforce_retention",
    "retention.tasks.purge_batch",
    "retention.tasks.auto_delete",
    "connected.tasks.deliver_events",
    "connected.tasks.deliver_system",
    "accounts.tasks.password_reset_mail",
]
CODE = (
    "import django; django.setup();"
    "from privacy_portal.celery import app;"
    f"print([app.amqp.router.route({{}}, name).get('queue').name for name in {TASKS!r}])"
)


def _queues(tmp_path, **env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "privacy_portal.settings",
            "SECRET_KEY": "x",
            "PORTAL_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_each_kind_of_work_has_its_queue(tmp_path):
    assert _queues(tmp_path, CELERY_QUEUES_BY_KIND="true") == str(
        ["purge", "purge", "auto_delete", "delivery", "delivery", "mail"]
    )


def test_without_it_everything_is_on_the_default_queue(tmp_path):
    assert _queues(tmp_path) == str(["celery"] * len(TASKS))
