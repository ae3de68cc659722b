"""Fixtures of the fault tests. They need PostgreSQL (row locks, advisory
locks, pg_terminate_backend, other processes sharing the test database) and
the kill test needs a real broker: without them they skip, saying why, unless
PORTAL_REQUIRE_BROKER=1 (CI), where a missing service is a failure."""

import os

import pytest
from django.db import connection

# The helpers of the integration tests: a child process's environment on this
# test's database, the interpreter, and the broker (skip or fail when unset).
from tests.integration.conftest import broker_url, python, subprocess_env

__all__ = ["broker_url", "postgresql", "python", "subprocess_env"]


def _required() -> bool:
    return os.environ.get("PORTAL_REQUIRE_BROKER") == "1"


@pytest.fixture
def postgresql():
    """Skip (or fail, when required) unless the test database is PostgreSQL."""
    if connection.vendor != "postgresql":
        message = (
            "fault tests need PostgreSQL (row and advisory locks, pg_terminate_backend, "
            "other processes on the test database): set DATABASE_URL=postgres://..."
        )
        if _required():
            pytest.fail(f"PORTAL_REQUIRE_BROKER=1 but {message}")
        pytest.skip(message)
