"""What counts as a reason: the one validator of every reason field (support
console lookups, admin content reveals, legal-hold actions).

A reason is shown to the account's owner and kept as the record of why staff
looked; one made of spaces, zero-width or control characters is stored and
shown blank, which is no reason at all. So a reason needs at least
`MIN_VISIBLE` characters left after removing whitespace, control and format
characters (Unicode categories Z*, Cc, Cf), and, when the deployment sets
PORTAL_REASON_PATTERN (a regular expression, e.g. a ticket reference), must
contain a match of it.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError

MIN_VISIBLE = 3

# Separators (Zs, Zl, Zp), controls and format characters (zero-width space,
# joiners, direction marks, BOM...): invisible on the page.
INVISIBLE_CATEGORIES = ("Z", "Cc", "Cf")


def visible_characters(text: str) -> str:
    """`text` without whitespace, control and format characters."""
    return "".join(
        char
        for char in text
        if not unicodedata.category(char).startswith(INVISIBLE_CATEGORIES) and not char.isspace()
    )


def reason_problem(text: str, *, pattern: str = "") -> str | None:
    """Why `text` is not a reason, or None when it is one (pure)."""
    if len(visible_characters(text)) < MIN_VISIBLE:
        return f"Give a reason of at least {MIN_VISIBLE} visible characters."
    if pattern and re.search(pattern, text) is None:
        return f"The reason must name the ticket or case it is for (matching {pattern})."
    return None


def validate_reason(value: str) -> None:
    """Form-field validator: the rule above with the deployment's pattern."""
    problem = reason_problem(value, pattern=getattr(settings, "PORTAL_REASON_PATTERN", ""))
    if problem is not None:
        raise ValidationError(problem, code="invisible_reason")
