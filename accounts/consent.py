"""The one definition of "the consent in force at a moment", for a ledger
held in memory. `accounts.selectors` answers the same question in SQL
(`consent_current`, `consent_allowed_at`), ordering by IN_FORCE_ORDER; a test
holds the two to the same answers.

Pure: no database, so the retention policy can use it on plain values.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# The entry in force at a moment is the first in this order among those
# effective at or before it: the latest, and of entries at the same instant
# the one recorded last.
IN_FORCE_ORDER = ("-effective_at", "-id")
# The ledger in the order it was lived (consent_at's input order).
LEDGER_ORDER = ("effective_at", "id")


@dataclass(frozen=True)
class ConsentEntry:
    effective_at: datetime
    allowed: bool


def consent_at(ledger: Iterable[ConsentEntry], moment: datetime) -> bool:
    """The consent in force at `moment`: the latest entry at or before it.
    Entries at the same instant count in ledger order (LEDGER_ORDER). No
    entry: not allowed."""
    allowed = False
    latest: datetime | None = None
    for entry in ledger:
        if entry.effective_at <= moment and (latest is None or entry.effective_at >= latest):
            latest, allowed = entry.effective_at, entry.allowed
    return allowed
