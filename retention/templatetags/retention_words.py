"""Durations in words for the admin's health and run pages ("2 hours 5
minutes", never "7500.0"): formatting only, retention.policy.promises words it."""

from django import template

from retention.policy.promises import duration_text

register = template.Library()


@register.filter
def duration_words(value) -> str:
    return duration_text(value)
