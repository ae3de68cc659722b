"""Helpers for tests that run the project in other processes: they reach the
pytest-django test database (its data committed by transaction=True tests)."""

import os
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def subprocess_env():
    """Environment for a child process using this test's database."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    else:
        url = f"sqlite:///{s['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


@pytest.fixture
def python():
    return sys.executable


@pytest.fixture
def broker_url():
    url = os.environ.get("CELERY_TEST_BROKER_URL", "")
    if not url:
        if os.environ.get("PORTAL_REQUIRE_BROKER") == "1":
            pytest.fail("PORTAL_REQUIRE_BROKER=1 but CELERY_TEST_BROKER_URL is not set")
        pytest.skip("set CELERY_TEST_BROKER_URL (e.g. redis://127.0.0.1:6379/15) to run")
    return url
