"""The beat scheduler: django-celery-beat's database scheduler, so admins can
change the purge interval in Django admin.

django-celery-beat 2.1.0 (the newest release that admits Django 6.1) calls
pytz's `localize()` on the app's time zone, but Celery 5.3+ uses zoneinfo, so
every entry fails to load. Celery's own `now()` is already aware; use it.
"""

from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry


class ZoneInfoModelEntry(ModelEntry):
    def _default_now(self):
        return self.app.now()


class PortalDatabaseScheduler(DatabaseScheduler):
    Entry = ZoneInfoModelEntry
