"""privacy_portal.db_errors: which database errors are transient (the same
request sent again would succeed, and the failed one changed nothing)."""

import sqlite3

import psycopg
import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
    transaction,
)

from privacy_portal.db_errors import is_transient, sqlstate_of
from tests.reliability.postgres import other_connection


def _as_django_raises(driver_error: Exception, wrapper: type[DatabaseError]) -> DatabaseError:
    """What Django's DatabaseErrorWrapper raises for `driver_error`: its own
    class, with the driver's error as the cause."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise wrapper(*exc.args) from exc
    except DatabaseError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "driver_error",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.LockNotAvailable("could not obtain lock"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.ConnectionFailure("connection failure"),
        psycopg.OperationalError("server closed the connection unexpectedly"),  # no SQLSTATE
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("database table is locked"),
    ],
    ids=lambda e: type(e).__name__ + ": " + str(e),
)
def test_races_and_an_unreachable_database_are_transient(driver_error):
    assert is_transient(_as_django_raises(driver_error, OperationalError))


def test_a_closed_connection_is_transient():
    assert is_transient(InterfaceError("connection already closed"))


@pytest.mark.parametrize(
    ("driver_error", "wrapper"),
    [
        (psycopg.errors.UniqueViolation("duplicate key"), IntegrityError),
        (psycopg.errors.UndefinedTable("relation does not exist"), ProgrammingError),
        (psycopg.errors.DiskFull("could not extend file"), OperationalError),
        (psycopg.errors.QueryCanceled("canceling statement due to user request"), OperationalError),
        (sqlite3.OperationalError("no such table: retention_conversation"), OperationalError),
    ],
    ids=lambda e: getattr(e, "__name__", None) or type(e).__name__,
)
def test_a_bug_or_a_lasting_fault_is_not_transient(driver_error, wrapper):
    assert not is_transient(_as_django_raises(driver_error, wrapper))


def test_errors_that_are_not_the_databases_are_not_transient():
    assert not is_transient(ValueError("deadlock"))
    assert not is_transient(RuntimeError("database is locked"))


@pytest.mark.django_db(transaction=True)
def test_a_real_lock_timeout_on_postgresql_is_transient():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    key = 4_242_001
    with other_connection() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [key])
        with (
            pytest.raises(OperationalError) as raised,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL lock_timeout = '50ms'")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    assert sqlstate_of(raised.value) == "55P03"
    assert is_transient(raised.value)
