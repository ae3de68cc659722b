"""Ids of events already applied, so at-least-once delivery applies each once."""

from django.db import models
from django.utils import timezone


class IngestedEvent(models.Model):
    event_id = models.CharField(max_length=200, primary_key=True)
    type = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=timezone.now)
