from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and consent"

    def ready(self) -> None:
        from accounts.backends import forget_user
        from accounts.models import User

        post_save.connect(forget_user, sender=User, dispatch_uid="accounts.forget_user")
        post_delete.connect(forget_user, sender=User, dispatch_uid="accounts.forget_user_deleted")
