#!/usr/bin/env python
"""The purge's message delete on a partitioned copy of the messages (issue 14).

Works on a database bench/growth.py seeded (it reads, and rolls back every
delete, so the database is left as it was apart from the copies, which
--drop-copies removes). Builds copies of retention_message:

  plain   the table itself (not partitioned)
  hash    PARTITION BY HASH (conversation_id), --partitions partitions
  range   PARTITION BY RANGE (sent_at), one partition per month

each copy with the index the purge's delete uses (conversation_id) and a
primary key that includes the partition key (PostgreSQL requires it: a
partitioned table can have no unique index without the partition key, so
message external ids could no longer be unique across the table).

Then, for --batches batches of 1,000 due conversations taken in the purge's
own claim order (retain_until, id), runs the purge's statement on each copy:

    WITH gone AS (DELETE FROM <t> WHERE conversation_id = ANY($1) RETURNING conversation_id)
    SELECT conversation_id, count(*) FROM gone GROUP BY conversation_id

in a transaction that is rolled back, and on the range copy also the same
delete bounded per conversation by its activity window (a message is sent
between its conversation's created_at and last_activity_at), so the planner
can skip the months a conversation never touched. Prints the median time and,
from EXPLAIN (ANALYZE, BUFFERS) of one batch, how many partitions each scans
and the buffers it touches.

    .venv/bin/python bench/partitioned_purge.py --database bench_purge_growth_10000000
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

PURGE_DELETE = (
    "WITH gone AS (DELETE FROM {table} WHERE conversation_id = ANY(%s::bigint[]) "
    "RETURNING conversation_id) SELECT conversation_id, count(*) FROM gone GROUP BY 1"
)
# The same delete, each conversation's messages looked for only in the months
# of its activity (created_at, less a day of clock skew between the services
# that stamp them, .. last_activity_at, passed with the ids).
BOUNDED_DELETE = (
    "WITH b AS (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
    "AS b(id, lo, hi)), gone AS (DELETE FROM {table} m USING b WHERE m.conversation_id = b.id "
    "AND m.sent_at BETWEEN b.lo - interval '1 day' AND b.hi RETURNING m.conversation_id) "
    "SELECT conversation_id, count(*) FROM gone GROUP BY 1"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--kind",
        choices=["claim", "spread"],
        default="claim",
        help="claim: batches in the purge's claim order (retain_until, id): once the due "
        "deletions are purged, the oldest activity first; spread: conversations of every "
        "age, as a user's deletions fall due (every 50th id)",
    )
    parser.add_argument("--reuse-copies", action="store_true")
    parser.add_argument("--drop-copies", action="store_true", help="drop the copies at the end")
    harness.add_pg_url_argument(parser)
    return parser.parse_args(argv)


def build_copies(conn, partitions: int) -> None:
    timed = []

    def run(label, statement):
        begin = time.perf_counter()
        conn.execute(statement)
        timed.append((label, time.perf_counter() - begin))
        print(f"  {label}: {timed[-1][1]:.0f} s", flush=True)

    conn.execute("SET maintenance_work_mem = '1GB'")
    for table in ("bench_msg_hash", "bench_msg_range"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    columns = (
        "id bigint NOT NULL, conversation_id bigint NOT NULL, external_id varchar(64) NOT NULL, "
        "role varchar(16) NOT NULL, content text NOT NULL, sent_at timestamptz NOT NULL"
    )
    conn.execute(f"CREATE TABLE bench_msg_hash ({columns}) PARTITION BY HASH (conversation_id)")
    for n in range(partitions):
        conn.execute(
            f"CREATE TABLE bench_msg_hash_{n} PARTITION OF bench_msg_hash "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {n})"
        )
    low, high = conn.execute(
        "SELECT date_trunc('month', min(sent_at)), max(sent_at) FROM retention_message"
    ).fetchone()
    conn.execute(f"CREATE TABLE bench_msg_range ({columns}) PARTITION BY RANGE (sent_at)")
    months = conn.execute(
        "SELECT m, m + interval '1 month' FROM generate_series(%s::timestamptz, %s, "
        "interval '1 month') AS m",
        [low, high],
    ).fetchall()
    for n, (start, end) in enumerate(months):
        conn.execute(
            f"CREATE TABLE bench_msg_range_{n} PARTITION OF bench_msg_range "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    print(f"  range copy: {len(months)} monthly partitions", flush=True)
    for table in ("bench_msg_hash", "bench_msg_range"):
        run(
            f"{table}: copy",
            f"INSERT INTO {table} (id, conversation_id, external_id, role, content, sent_at) "
            "SELECT id, conversation_id, external_id, role, content, sent_at FROM retention_message",
        )
        key = "conversation_id" if table.endswith("hash") else "sent_at"
        run(f"{table}: primary key", f"ALTER TABLE {table} ADD PRIMARY KEY (id, {key})")
        run(
            f"{table}: conversation index",
            f"CREATE INDEX {table}_conv ON {table} (conversation_id)",
        )
        run(f"{table}: analyze", f"VACUUM ANALYZE {table}")


ORDERS = {
    "claim": "WHERE retain_until IS NOT NULL {extra} ORDER BY retain_until, id",
    "spread": "WHERE id %% 50 = 8 {extra} ORDER BY id",
}


def due_batches(conn, count: int, size: int, kind: str) -> list[tuple[list, list, list]]:
    """Batches in the claim's order (the due ones come first; once a purge
    has run, the next to fall due), or spread over every age."""
    rows = conn.execute(
        "SELECT id, created_at, last_activity_at FROM retention_conversation "
        + ORDERS[kind].format(extra="")
        + " LIMIT %s",
        [count * size],
    ).fetchall()
    batches = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        batches.append(([r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk]))
    return batches


def statement(variant: str) -> tuple[str, str]:
    """(table, SQL) of a variant."""
    table = {
        "plain": "retention_message",
        "hash": "bench_msg_hash",
        "range": "bench_msg_range",
        "range, bounded": "bench_msg_range",
        "hash, one partition's batch": "bench_msg_hash",
    }[variant]
    template = BOUNDED_DELETE if variant.endswith("bounded") else PURGE_DELETE
    return table, template.format(table=table)


def params(variant: str, batch, own=None) -> list:
    ids, lows, highs = batch
    if variant.startswith("hash, one"):
        return [own]
    return [ids, lows, highs] if variant.endswith("bounded") else [ids]


def planner_settings(conn, variant: str) -> None:
    """The bounded delete is meant as a nested loop (each conversation's
    window prunes the months at run time); the planner, not knowing the
    windows are narrow, prefers to hash the whole table."""
    if variant.endswith("bounded"):
        conn.execute("SET LOCAL enable_hashjoin = off")
        conn.execute("SET LOCAL enable_mergejoin = off")


def partition_batches(conn, count: int, size: int, partitions: int, kind: str) -> list[list[int]]:
    """Batches as a purge worker per partition would claim them: the next
    `size` conversations in claim order whose messages hash to partition 0
    (conversations partitioned by the same key)."""
    rows = conn.execute(
        "SELECT id FROM retention_conversation "
        + ORDERS[kind].format(
            extra="AND satisfies_hash_partition('bench_msg_hash'::regclass, %s, 0, id)"
        )
        + " LIMIT %s",
        [partitions, count * size],
    ).fetchall()
    ids = [r[0] for r in rows]
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def explain(conn, variant: str, batch, own) -> dict:
    _table, sql = statement(variant)
    conn.execute("BEGIN")
    try:
        planner_settings(conn, variant)
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params(variant, batch, own)
            ).fetchall()
        )
    finally:
        conn.execute("ROLLBACK")
    scans = re.findall(r"(?:Seq|Index|Index Only|Bitmap Heap) Scan (?:using \S+ )?on (\S+)", plan)
    partitions = {s for s in scans if re.search(r"_\d+$", s) or s == "retention_message"}
    buffers = [int(b) for b in re.findall(r"Buffers: shared hit=(\d+)", plan)[:1]]
    removed = re.search(r"Subplans Removed: (\d+)", plan)
    never = plan.count("(never executed)")
    return {
        "plan": plan,
        "partitions scanned": len(partitions),
        "buffers (top node)": buffers[0] if buffers else None,
        "subplans removed": int(removed.group(1)) if removed else 0,
        "never executed": never,
    }


def main(argv=None) -> int:
    import psycopg

    args = parse_args(argv)
    run = harness.Run()
    url = f"{args.pg_url.rstrip('/')}/{args.database}"
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('bench_msg_range') IS NOT NULL").fetchone()[0]
        if not (args.reuse_copies and exists):
            print(f"Building the partitioned copies in {args.database} ...", flush=True)
            build_copies(conn, args.partitions)
        messages = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'retention_message'"
        ).fetchone()[0]
        batches = due_batches(conn, args.batches, args.batch_size, args.kind)
        owns = partition_batches(conn, args.batches, args.batch_size, args.partitions, args.kind)
        variants = ["plain", "hash", "hash, one partition's batch", "range", "range, bounded"]
        times = {v: [] for v in variants}
        counts = {v: [] for v in variants}
        for round_no, (batch, own) in enumerate(zip(batches, owns, strict=False)):
            order = variants if round_no % 2 == 0 else list(reversed(variants))
            for variant in order:
                _table, sql = statement(variant)
                conn.execute("BEGIN")
                try:
                    planner_settings(conn, variant)
                    begin = time.perf_counter()
                    gone = conn.execute(sql, params(variant, batch, own)).fetchall()
                    times[variant].append(time.perf_counter() - begin)
                finally:
                    conn.execute("ROLLBACK")
                counts[variant].append(sum(n for _, n in gone))
        plans = {v: explain(conn, v, batches[0], owns[0]) for v in variants}
    print(
        f"\n{args.database}: about {messages:,} messages; {len(batches)} batches of "
        f"{args.batch_size} conversations ({args.kind}), each delete rolled back; "
        "median time\n"
    )
    print(
        "| copy | delete ms (median) | per round ms | messages deleted per batch | "
        "partitions scanned | subplans pruned (at run time) | shared buffers hit |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for v in variants:
        p = plans[v]
        print(
            f"| {v} | {harness.median_ms(times[v]):.1f} | "
            f"{', '.join(f'{t * 1000:.0f}' for t in times[v])} | {statistics.median(counts[v]):.0f} "
            f"| {p['partitions scanned']} | {p['subplans removed'] or p['never executed']} "
            f"| {p['buffers (top node)']} |"
        )
    same = all(counts[v] == counts["plain"] for v in variants if not v.startswith("hash, one"))
    print(
        "\n- every copy deleted the same messages (the one-partition batch has its own "
        f"conversations): {'yes' if same else 'NO'}"
    )
    for v in variants:
        print(f"\n<details><summary>{v}: EXPLAIN (ANALYZE, BUFFERS)</summary>\n")
        print("```")
        print(plans[v]["plan"])
        print("```\n</details>")
    if args.drop_copies:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_msg_hash, bench_msg_range")
    run.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
