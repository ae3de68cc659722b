from django.apps import AppConfig


class RetentionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from retention import db_functions

        db_functions.register_sqlite_functions()
