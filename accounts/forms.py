"""The password-reset form, shared by the page (which only validates the
address) and the task that sends the mail."""

from django.contrib.auth.forms import PasswordResetForm

from accounts.models import User


class AccountPasswordResetForm(PasswordResetForm):
    """Django's form skips accounts with an unusable password. Ours must not:
    accounts the chat service created have none until their owner sets one
    through this very flow."""

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)
