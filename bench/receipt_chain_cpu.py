#!/usr/bin/env python
"""CPU time of the receipts' Python work per purge batch (issue 14), before
and under the chain lock, against an earlier checkout's (`--baseline DIR`,
e.g. `git archive da66e1d | tar -x -C DIR`): 1,000 receipts, best of 5
(time.process_time, which the machine's load barely moves); both must give
the same receipts. No database: the chain head is given.

    .venv/bin/python bench/receipt_chain_cpu.py --baseline var/base
"""

import argparse
import importlib.util
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_ms(call, repeat: int = 40) -> float:
    best = []
    for _ in range(5):
        begin = time.process_time()
        for _ in range(repeat):
            call()
        best.append((time.process_time() - begin) / repeat)
    return min(best) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="an earlier checkout to compare with")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"
    import django

    django.setup()
    from connected.events import CONVERSATION_PURGED, event_validate, iso_utc
    from connected.services.outbox import OutboxItem
    from retention.purge import receipts

    rows = [
        {
            "user_id": 5 + i,
            "external_id": f"conv_{i}",
            "kind": "chat",
            "rule": "not_shared",
            "deleted_at": None if i % 7 else datetime(2026, 1, 1, tzinfo=UTC),
            "retain_until": datetime(2026, 2, 1, 3, 4, 5, 6, tzinfo=UTC) + timedelta(seconds=i),
            "messages_removed": 10,
        }
        for i in range(1000)
    ]
    purged_at = datetime(2026, 3, 1, tzinfo=UTC)
    receipts.chain_head_locked = lambda: (41, "ab" * 32)
    prepared = receipts.prepare_receipts(rows, purged_at=purged_at)
    print("per batch of 1,000 receipts, CPU ms, best of 5:")
    print(
        f"  before the chain lock: {cpu_ms(lambda: receipts.prepare_receipts(rows, purged_at=purged_at)):.2f}"
    )
    print(f"  under the chain lock:  {cpu_ms(lambda: receipts.chain_receipts(prepared)):.2f}")
    if args.baseline:
        path = Path(args.baseline) / "retention" / "purge" / "receipts.py"
        spec = importlib.util.spec_from_file_location("baseline_receipts", path)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        old.chain_head_locked = receipts.chain_head_locked
        same = old.build_receipts(rows, purged_at=purged_at) == receipts.chain_receipts(prepared)
        print(
            f"  baseline, all under the lock: "
            f"{cpu_ms(lambda: old.build_receipts(rows, purged_at=purged_at)):.2f} "
            f"(same receipts: {'yes' if same else 'NO'})"
        )

    def outbox_items():
        at = iso_utc(purged_at)
        for i in range(1000):
            item = OutboxItem(
                type=CONVERSATION_PURGED,
                account=f"acct_{i}",
                data={
                    "account": f"acct_{i}",
                    "conversation": f"conv_{i}",
                    "receipt": i,
                    "purged_at": at,
                },
            )
            event_validate(type=item.type, account=item.account, data=item.data)

    print(
        f"  outbox events built and validated (skipped when none subscribes): {cpu_ms(outbox_items):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
