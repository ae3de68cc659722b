"""A system's confirmation that it erased its own copy of a purged item."""

from datetime import datetime

from django.utils import timezone

from connected.models import Delivery


def erasure_confirm(*, delivery: Delivery, now: datetime | None = None) -> datetime:
    """Record the confirmation once; a repeat keeps the first time and
    returns it (idempotent)."""
    Delivery.objects.filter(pk=delivery.pk, confirmed_at__isnull=True).update(
        confirmed_at=now or timezone.now()
    )
    return Delivery.objects.values_list("confirmed_at", flat=True).get(pk=delivery.pk)
