"""The privacy portal project: settings, URLs and the Celery app."""

from privacy_portal.celery import app as celery_app

__all__ = ("celery_app",)
