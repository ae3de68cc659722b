from django.apps import AppConfig


class ConnectedConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "connected"
    verbose_name = "Connected systems"
