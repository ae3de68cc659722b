"""Django admin for the retention domain.

Rows here are facts from the chat service or records of what the purge did;
admin changes none of them directly. The writes it offers go through services:
legal holds (holds.py: placed on accounts or conversations, released) and the
policy durations (policy.py: each change recorded, deadlines recomputed in
bulk SQL). Conversation titles and message content are shown only after a
reason is given (conversations.py, access-logged). Deletion health is the
PurgeRun list with a summary on top (purge.py).
"""

from retention.admin import conversations, holds, policy, purge

__all__ = ["conversations", "holds", "policy", "purge"]
