"""Writes of the connected app. The outbox API other apps call is
re-exported here: `connected.services.outbox_record(...)`."""

from connected.services.outbox import OutboxItem, outbox_record, outbox_record_many

__all__ = ["OutboxItem", "outbox_record", "outbox_record_many"]
