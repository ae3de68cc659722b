from django.apps import AppConfig


class SupportConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = "Support console"
