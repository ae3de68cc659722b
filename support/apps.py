from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SupportConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = "Support console and staff access log"


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django admin with the portal's site: signed-in people who are not staff
    (end users, support agents) get a logged 403 instead of the admin login.
    Listed in INSTALLED_APPS in place of "django.contrib.admin"."""

    default = False
    default_site = "support.admin_site.PortalAdminSite"
