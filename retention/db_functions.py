"""SQL mirrors of retention.policy.dates, so deadlines can be rewritten in bulk
with one UPDATE on PostgreSQL and on SQLite alike.

PostgreSQL adds intervals (the connection runs in UTC, and
'2024-02-29' + 1 year is '2025-02-28' as the rules want); SQLite calls the
Python functions registered here on every new connection.
"""

from datetime import datetime

from django.db import models
from django.db.backends.signals import connection_created

from retention.policy.dates import add_days, add_months, add_years


class _AddInterval(models.Func):
    output_field = models.DateTimeField()
    unit: str = ""
    sqlite_function: str = ""

    def __init__(self, expression, amount, **extra):
        # A number, or an expression (a column, a subquery): NULL gives NULL.
        if not hasattr(amount, "resolve_expression"):
            amount = models.Value(int(amount))
        super().__init__(expression, amount, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        moment_sql, moment_params = compiler.compile(self.source_expressions[0])
        amount_sql, amount_params = compiler.compile(self.source_expressions[1])
        sql = f"({moment_sql} + make_interval({self.unit} => ({amount_sql})::integer))"
        return sql, (*moment_params, *amount_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function=self.sqlite_function, **extra_context)


class AddYears(_AddInterval):
    unit = "years"
    sqlite_function = "portal_add_years"


class AddMonths(_AddInterval):
    """Calendar months, clamped to the end of a shorter month: PostgreSQL's
    interval arithmetic ('2026-01-31' + 1 month is '2026-02-28') and
    retention.policy.dates.add_months agree."""

    unit = "months"
    sqlite_function = "portal_add_months"


class AddDays(_AddInterval):
    unit = "days"
    sqlite_function = "portal_add_days"


def _sqlite_shift(shift):
    def shifted(value: str | None, amount: int | None) -> str | None:
        if value is None or amount is None:
            return None
        return str(shift(datetime.fromisoformat(value), amount))

    return shifted


def _on_connection_created(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("portal_add_years", 2, _sqlite_shift(add_years), deterministic=True)
        raw.create_function("portal_add_days", 2, _sqlite_shift(add_days), deterministic=True)
        raw.create_function("portal_add_months", 2, _sqlite_shift(add_months), deterministic=True)


def register_sqlite_functions() -> None:
    connection_created.connect(_on_connection_created, dispatch_uid="portal_sqlite_functions")
