"""Selectors: reads of the retention domain, returning querysets or plain values."""
