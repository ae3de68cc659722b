"""Which database errors are transient: the same request, sent again a
moment later, would succeed, and the failed one changed nothing (its
transaction was rolled back whole).

- a deadlock (40P01), a serialization failure (40001) or a lock that could
  not be taken (55P03): another transaction won a race; it has finished by
  the time the request is sent again;
- too many connections (53300), a server shutting down or starting
  (57P01, 57P03) or any connection exception (class 08): the database, or
  PgBouncer in front of it, is briefly out of reach;
- PostgreSQL's OperationalError without an SQLSTATE: the client lost or
  could not make the connection (psycopg reports no code for those), and
  InterfaceError (the connection was already closed);
- SQLite's busy writer ("database is locked", `make run`'s embedded default);
  SQLite's other errors carry no code and are not transient.

Everything else (a constraint violated, bad SQL, a programming error) is not
transient and stays a 500: sending it again would fail the same way.

Asked by the web layer (privacy_portal.http.TransientDatabaseErrorMiddleware
answers 503 with Retry-After) and by ingest, which retries a batch itself
before answering its documented 503.
"""

import sqlite3

from django.db import InterfaceError, OperationalError

TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P03"})
CONNECTION_EXCEPTION_CLASS = "08"


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django keeps the driver's error as
    the cause), or None."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "sqlstate", None)
        if code:
            return code
    return None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):  # the connection was already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(exc.__cause__, sqlite3.Error):
        return "is locked" in str(exc.__cause__)  # database / database table is locked
    code = sqlstate_of(exc)
    if code is None:
        return True
    return code in TRANSIENT_SQLSTATES or code.startswith(CONNECTION_EXCEPTION_CLASS)
