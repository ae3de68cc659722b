"""Ids of events already applied, so at-least-once delivery applies each once,
with a digest of each event's body, so an id reused for another event is
refused (409) rather than silently taken for a duplicate."""

from django.db import models
from django.utils import timezone


class IngestedEvent(models.Model):
    event_id = models.CharField(max_length=200, primary_key=True)
    type = models.CharField(max_length=32)
    # SHA-256 of the canonical body (ingest.schemas.event_digest); empty for
    # events claimed before digests were kept, which any body repeats.
    digest = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class AccountUpsertMark(models.Model):
    """The `at` of the newest account.upserted applied to each account, so a
    snapshot delivered late (older than one already applied) is acknowledged
    but does not overwrite newer account data."""

    account_external_id = models.CharField(max_length=128, primary_key=True)
    upserted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account_external_id} @ {self.upserted_at:%Y-%m-%d %H:%M:%S}"
