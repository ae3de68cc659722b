"""Accounts of the chat service and their training-consent ledger."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountType(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    COMMERCIAL = "commercial", _("Commercial")


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    MAX = "max", "Max"
    TEAM = "team", "Team"
    ENTERPRISE = "enterprise", "Enterprise"
    API = "api", "API"


CONSUMER_PLANS = frozenset({Plan.FREE, Plan.PRO, Plan.MAX})
COMMERCIAL_PLANS = frozenset({Plan.TEAM, Plan.ENTERPRISE, Plan.API})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None leaves an unusable password
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in by email: an end user of the chat service or staff.

    `external_id` is the chat service's account id; staff accounts have none.
    """

    email = models.EmailField("email address", unique=True)
    external_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    account_type = models.CharField(
        max_length=16, choices=AccountType.choices, default=AccountType.CONSUMER
    )
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Auto-delete in force: conversations are deleted this many calendar
    # months after their last activity (3, 18 or 36); null is off. Written
    # only by accounts.services.auto_delete_record, with its ledger entry.
    auto_delete_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # The owner asked to delete the account (retention.services.accounts):
    # sign-in is disabled from then on; the record itself is erased by the
    # purge once nothing the account owns is left (erased_at).
    erasure_requested_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        indexes = [
            models.Index(fields=["account_type", "plan"], name="user_type_plan_idx"),
            # The auto-delete job starts from the few accounts that turned it on.
            models.Index(
                fields=["auto_delete_months"],
                name="user_auto_delete_idx",
                condition=models.Q(auto_delete_months__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_commercial(self) -> bool:
        return self.account_type == AccountType.COMMERCIAL

    @property
    def takes_new_data(self) -> bool:
        """False once the owner asked to delete the account: the chat
        service's messages, feedback and consent changes for it are refused
        (ingest), so nothing new outlives the deletion the person asked for."""
        return self.erasure_requested_at is None


class ConsentSource(models.TextChoices):
    DASHBOARD = "dashboard", _("Dashboard")
    IMPORT = "import", _("Import from the chat service")
    ADMIN = "admin", _("Admin")
    ACCOUNT_DELETION = "account_deletion", _("Account deletion")


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a row of an append-only table."""


class AppendOnlyModel(models.Model):
    """Rows are written once. The database refuses UPDATE and DELETE too
    (triggers in the migrations), so not even a raw query can rewrite history."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted.")


class ConsentChange(AppendOnlyModel):
    """One change of an account's training consent. The current consent is
    the latest entry by `effective_at`; no entry at all means "not allowed"."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="consent_changes")
    allowed = models.BooleanField()
    effective_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    article_version = models.CharField(max_length=64)

    class Meta:
        ordering = ["effective_at", "id"]
        indexes = [models.Index(fields=["user", "effective_at", "id"], name="consent_user_at_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {'allowed' if self.allowed else 'not allowed'} @ {self.effective_at:%Y-%m-%d %H:%M}"


class AutoDeleteChange(AppendOnlyModel):
    """One choice of an account's auto-delete setting ("what did I choose
    when"). The value in force is `User.auto_delete_months`, written in the
    same transaction; `after_months` null means the user turned it off."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="auto_delete_changes")
    after_months = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["user", "recorded_at", "id"], name="autodelete_user_at_idx")
        ]

    def __str__(self) -> str:
        setting = f"after {self.after_months} months" if self.after_months else "off"
        return f"{self.user_id}: auto-delete {setting} @ {self.recorded_at:%Y-%m-%d %H:%M}"


class UserSession(AbstractBaseSession):
    """A server-side session (accounts.sessions, SESSION_ENGINE) that knows
    whose it is, so every session of one account can be ended with one
    indexed DELETE (a password reset, an account deletion) instead of
    decoding every row of the session table. No foreign key: a session must
    never lock or block its account row."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    class Meta:
        db_table = "accounts_usersession"
