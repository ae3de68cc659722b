from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    """The staff's tools, below every app that has data to show them: the
    admin site and the building blocks of every ModelAdmin, and the staff
    access log they write (as django.contrib.admin is to models, with its
    LogEntry). Depends on accounts only."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff access log"

    def ready(self) -> None:
        from staff import checks  # noqa: F401  registers the content check


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django admin with the portal's site: signed-in people who are not staff
    (end users, support agents) get a logged 403 instead of the admin login.
    Listed in INSTALLED_APPS in place of "django.contrib.admin"."""

    default = False
    default_site = "staff.admin_site.PortalAdminSite"
