"""What a valid external id is: the one validator for the chat service's ids
(accounts, conversations, messages, feedback, training runs).

An id becomes one segment of the links a user or a staff member opens
(`/conversations/<id>/`, the support console's lookups, admin searches), so
it is refused at ingest unless every page can open it: URL-safe characters
only (no spaces, accents, '%', '?', '/'), and never "." or "..", which a
browser folds out of a path.
"""

import re

MAX_LENGTH = 128
_PATTERN = re.compile(rf"[A-Za-z0-9._:~-]{{1,{MAX_LENGTH}}}")
# The same rule as one regular expression (ECMA-262, for JSON Schema / OpenAPI).
JSON_PATTERN = rf"^(?!\.{{1,2}}$)[A-Za-z0-9._:~-]{{1,{MAX_LENGTH}}}$"
RULE = f'1 to {MAX_LENGTH} of the characters A-Z a-z 0-9 . _ : ~ -, and not "." or ".." alone'


def is_valid_external_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and _PATTERN.fullmatch(value) is not None
        and value not in (".", "..")
    )
