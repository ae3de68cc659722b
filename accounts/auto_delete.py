"""The user's auto-delete setting, as plain values: the periods a user may
choose and the one check of a value. Pure (no database), so the retention
policy, the forms and the API all ask here.

The setting is stored twice in one transaction (accounts.services.
auto_delete_record): the value in force on the account row
(`User.auto_delete_months`, which deadline rewrites and the job read) and an
append-only ledger of every choice (`AutoDeleteChange`, "what did I choose
when", shown on the page and in the export).
"""

from typing import Any

# Months after a conversation's last activity; None is off (the default).
AUTO_DELETE_MONTHS: tuple[int, ...] = (3, 18, 36)


def is_valid_after_months(value: Any) -> bool:
    """True for exactly 3, 18, 36 (integers, not booleans or floats) or None."""
    if value is None:
        return True
    return type(value) is int and value in AUTO_DELETE_MONTHS
