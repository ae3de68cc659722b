"""Connected systems, their API keys, the outbox of events and one delivery
row per event and system (docs/connected-systems.md).

The outbox is written in the caller's transaction (services.outbox), so an
event exists exactly when its decision committed. Events get their place in
the feed (`seq`) later, in commit order, from the dispatcher
(services.dispatch): ids from a sequence are handed out in insert order, not
commit order, so a cursor over them could skip an event that commits late.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from connected.events import ERASURE_TYPES


class ConnectedSystem(models.Model):
    """A system that holds a copy of users' data and must hear the portal's
    decisions. The signing secret is kept as given (signing needs it); the API
    keys are kept as hashes only (ApiKey)."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(
        "endpoint URL", max_length=500, blank=True, help_text="Empty: the system pulls the feed."
    )
    events = models.JSONField(default=list, help_text="Event types it subscribes to.")
    confirms_erasure = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    signing_secret = models.CharField(max_length=100, editable=False)
    previous_signing_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_delivery_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A bearer key of a system. Only a SHA-256 of the key is stored (the key
    has 256 random bits, so a fast hash is enough) and its first characters
    for lookup. A rotated key stays valid until revoked."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.system_id})"


class OutboxEvent(models.Model):
    public_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    account = models.CharField(max_length=128)
    # The conversation or feedback the event is about ('' for consent).
    subject = models.CharField(max_length=128, blank=True)
    data = models.JSONField()
    origin_system = models.ForeignKey(
        ConnectedSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # Place in commit order, given by the dispatcher; NULL until then.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], condition=Q(seq__isnull=True), name="connected_outbox_unsequenced"
            ),
            # Erasures only (what the user's pages look up): a "delete all"
            # writes 10,000 deletions and should not pay for this index.
            models.Index(
                fields=["account", "type", "subject"],
                condition=Q(type__in=sorted(ERASURE_TYPES)),
                name="connected_outbox_erasures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter"
    # A system without an endpoint: nothing is pushed, it reads the feed.
    FEED = "feed", "Feed only"


class Delivery(models.Model):
    """One event for one system: its feed entry, its webhook delivery state
    and, for erasures, the system's confirmation."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="deliveries")
    seq = models.BigIntegerField()  # the event's, for ordering without a join
    account = models.CharField(max_length=128)  # the event's, for ordering per account
    state = models.CharField(max_length=10, choices=DeliveryState.choices)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker's lease: it sends this row until then; after that it is free again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()  # the event's

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["system", "event"], name="connected_delivery_once"),
            models.UniqueConstraint(fields=["system", "seq"], name="connected_delivery_feed"),
        ]
        # A claim (connected.services.delivery._claim) reads only through
        # these, each holding a few rows whatever the backlog or the history:
        # the pending in order (the next due), and the three kinds of
        # blocked delivery (dead, claimed by a worker, backing off). Through
        # the feed's (system, seq) index instead, a claim stepped over every
        # delivered row, and finding the blocked scanned the whole table.
        indexes = [
            models.Index(
                fields=["system", "seq"],
                condition=Q(state="pending"),
                name="connected_delivery_pending",
            ),
            models.Index(
                fields=["system", "next_attempt_at"],
                condition=Q(state="pending"),
                name="connected_delivery_due",
            ),
            models.Index(
                fields=["system", "account", "seq"],
                condition=Q(state="pending", claimed_until__isnull=False),
                name="connected_delivery_claimed",
            ),
            models.Index(
                fields=["system", "account", "seq"],
                condition=Q(state="dead"),
                name="connected_delivery_dead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.system_id} ({self.state})"
