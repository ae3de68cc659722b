"""What every benchmark script shares, so each script holds only what it measures.

- `bench_environment()`: the settings a run uses (a throwaway secret, DEBUG
  off, its files in a temporary var directory, quiet logs).
- `create_database()` / `drop_database()` / `database()`: the one way a
  benchmark gets a PostgreSQL database of its own, created afresh (optionally
  as a copy of a template) and dropped afterwards.
- `timed()`, `median_ms()`: wall time of a call, medians in milliseconds.
- `Run`: the machine's load and the run's duration, printed the same way by
  every script, and `per_round()` for the ratios of each round.
- `assert_seeded_deadlines()`: a script that seeds rows with its own SQL
  checks them against the deadline service.
- `Receiver`: examples/receiver.py in its own process, for delivery runs.

Scripts import it as `from bench import harness` after putting the repository
root on sys.path; none imports another script.
"""

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")


def add_pg_url_argument(parser) -> None:
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="PostgreSQL server, without a database name",
    )


def add_pgbouncer_argument(parser) -> None:
    parser.add_argument(
        "--pgbouncer",
        metavar="URL",
        help="run the product (and the floor) through this PgBouncer in transaction mode, "
        "e.g. postgres://postgres@127.0.0.1:6442 (bench/pgbouncer.sh starts one); the "
        "database is still created and dropped directly on --pg-url",
    )


def bench_environment(
    pg_url: str,
    database: str,
    var_dir: Path,
    *,
    settings: str = "bench.settings",
    pgbouncer: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a benchmark: `settings` (by default bench/settings.py,
    the production settings with DEBUG off) on `database`, a throwaway
    secret, its files under `var_dir`, quiet logs; `extra` on top. With
    `pgbouncer` (a pooler in transaction mode) the product connects through
    it, with the settings production uses there (no server-side cursors, no
    prepared statements, docs/purge.md "Behind PgBouncer")."""
    pooled = {"DISABLE_SERVER_SIDE_CURSORS": "true"} if pgbouncer else {}
    return {
        **pooled,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": f"{(pgbouncer or pg_url).rstrip('/')}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "PORTAL_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def split_database_url(url: str) -> tuple[str, str]:
    """postgres://user@host:5432/name -> ("postgres://user@host:5432", "name")."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


# ------------------------------------------------------------------ database


def admin_connection(pg_url: str):
    import psycopg

    return psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True)


def database_exists(pg_url: str, name: str) -> bool:
    with admin_connection(pg_url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def drop_database(pg_url: str, name: str) -> None:
    from psycopg import sql

    with admin_connection(pg_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_database(pg_url: str, name: str, *, template: str | None = None) -> None:
    """`name` afresh (dropped first if it exists), empty or a copy of `template`."""
    from psycopg import sql

    drop_database(pg_url, name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with admin_connection(pg_url) as conn:
        conn.execute(statement)


@contextmanager
def database(pg_url: str, name: str, *, keep: bool = False, reuse: bool = False) -> Iterator[bool]:
    """A database of the benchmark's own for the `with` block; yields whether
    it was created empty (False when `reuse` found one a `keep` run left)."""
    fresh = not (reuse and database_exists(pg_url, name))
    if fresh:
        create_database(pg_url, name)
    try:
        yield fresh
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        if not keep:
            drop_database(pg_url, name)


# -------------------------------------------------------------------- timing


def timed[T](call: Callable[..., T], *args) -> tuple[float, T]:
    """(wall seconds, result) of `call(*args)`."""
    begin = time.perf_counter()
    result = call(*args)
    return time.perf_counter() - begin, result


def median_ms(seconds: Iterable[float]) -> float:
    return statistics.median(seconds) * 1000


def per_round(ratios: Iterable[float], digits: int = 2) -> str:
    """The ratio of each round, as the scripts print them: "1.02, 0.98, 1.10"."""
    return ", ".join(f"{ratio:.{digits}f}" for ratio in ratios)


class Run:
    """The machine's state around a run: load average before and after, and
    the run's wall time. The figures are ratios of measurements side by side,
    but a reader still needs to know how busy the machine was."""

    def __init__(self) -> None:
        self.load_before = os.getloadavg()
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def report(self) -> None:
        print(
            f"\nLoad average (1 min) {self.load_before[0]:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after; {os.cpu_count()} CPUs; "
            f"whole run {self.seconds:.0f} s."
        )


class _Rollback(Exception):
    pass


def assert_seeded_deadlines(sample) -> None:
    """Rows a script seeded with its own SQL must carry the deadlines
    retention.services.deadlines writes: rewrite `sample` (a Conversation
    queryset) with the service and compare, then roll back, so the rows keep
    their place in the table (an UPDATE writes new row versions, which would
    pack a user's history into a few pages). Exits naming the first rows that
    differ."""
    from django.db import transaction

    from retention.services.deadlines import refresh_conversation_deadlines

    fields = ("pk", "rule", "retain_until", "public_rule", "public_retain_until")
    sample = sample.order_by("pk")
    try:
        with transaction.atomic():
            before = list(sample.values_list(*fields))
            refresh_conversation_deadlines(sample)
            after = list(sample.values_list(*fields))
            raise _Rollback
    except _Rollback:
        pass
    if not before or before != after:
        wrong = [(b, a) for b, a in zip(before, after, strict=True) if b != a][:3]
        raise SystemExit(f"Seeded deadlines differ from the service's (fix the seed): {wrong}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """examples/receiver.py in its own process on 127.0.0.1."""

    def __init__(self, secret: str, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        command = [
            sys.executable,
            str(ROOT / "examples" / "receiver.py"),
            "--port",
            str(self.port),
            "--secret",
            secret,
        ]
        if log:
            command += ["--log", str(log)]
        self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise SystemExit("the reference receiver did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
