"""The retention domain: conversations and everything whose lifetime the help
article promises, plus the article itself and its settings.

Stored deadlines (`retain_until`) are derived from facts by the pure policy in
`retention.policy` and rewritten by `retention.services.deadlines` whenever a
fact changes; nothing here computes them (no logic in save()).

A model's `content_fields` name what is content (the user's words, and the
titles made from them): Django admin never filters, searches or sorts by them
and shows them only through a logged reason (staff.content reads this, and
only this, declaration). A new content field is covered by naming it there.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AppendOnlyModel


class Rule(models.TextChoices):
    """Rule codes of docs/retention-rules.md, in order of precedence."""

    COMMERCIAL = "commercial", _("Commercial account")
    LEGAL_HOLD = "legal_hold", _("Legal hold")
    FLAGGED = "flagged", _("Flagged by trust and safety")
    DELETED = "deleted", _("Deleted by you")
    AUTO_DELETE = "auto_delete", _("Auto-delete (your setting)")
    SHARED_TRAINING = "shared_training", _("Shared for model training")
    NOT_SHARED = "not_shared", _("Not shared for training")


class ConversationKind(models.TextChoices):
    CHAT = "chat", _("Chat")
    CODING_SESSION = "coding_session", _("Coding session")


class Conversation(models.Model):
    content_fields: ClassVar[tuple[str, ...]] = ("title",)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="conversations"
    )
    external_id = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=16, choices=ConversationKind.choices)
    title = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Basis: consent in force at last_activity_at (moved only by new activity).
    shared_for_training = models.BooleanField(default=False)
    # Latest trust-and-safety flag, copied here so the rule is one row's facts.
    flagged_at = models.DateTimeField(null=True, blank=True)
    # Effective decision: what the purge job obeys (legal holds included).
    rule = models.CharField(max_length=16, choices=Rule.choices)
    retain_until = models.DateTimeField(null=True, blank=True)
    # What the user is shown: the same decision with any legal hold masked.
    public_rule = models.CharField(max_length=16, choices=Rule.choices)
    public_retain_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["retain_until"], name="conv_retain_until_idx"),
            models.Index(
                fields=["user", "-last_activity_at", "-id"],
                name="conv_user_visible_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["user", "public_rule", "-last_activity_at", "-id"],
                name="conv_user_rule_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["user", "-deleted_at"],
                name="conv_user_deleted_idx",
                condition=models.Q(deleted_at__isnull=False),
            ),
            # Every column the overview's counts per rule read (see
            # dashboard.selectors.overview): the aggregate over a user's whole
            # history is an index-only scan, not one heap page per
            # conversation. Key columns rather than INCLUDE, which SQLite
            # lacks (and Django warns about there).
            models.Index(
                fields=["user", "deleted_at", "public_rule", "public_retain_until"],
                name="conv_user_counts_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class MessageRole(models.TextChoices):
    USER = "user", _("User")
    ASSISTANT = "assistant", _("Assistant")


class Message(models.Model):
    """Content: a message's input or output. Purged with its conversation.

    Foreign keys in this app use database-level on_delete (or DO_NOTHING, which
    makes the database refuse the delete): the purge deletes with set-based
    SQL, so the database, not Django's collector, must keep the references."""

    content_fields: ClassVar[tuple[str, ...]] = ("content",)

    conversation = models.ForeignKey(
        Conversation, on_delete=models.DB_CASCADE, related_name="messages"
    )
    external_id = models.CharField(max_length=128, unique=True)
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["conversation", "sent_at"], name="msg_conv_sent_idx")]

    def __str__(self) -> str:
        return f"{self.role} message {self.external_id}"


class Flag(models.Model):
    """A trust-and-safety classification of a conversation. The scores outlive
    the content: the link to the conversation is nulled, never cascaded."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="flags"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.DB_SET_NULL, null=True, blank=True, related_name="flags"
    )
    conversation_external_id = models.CharField(max_length=128)
    flagged_at = models.DateTimeField()
    scores = models.JSONField()
    # Effective deadline of the scores; null while not purgeable (hold, commercial).
    scores_retain_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["scores_retain_until"], name="flag_retain_until_idx"),
            models.Index(fields=["conversation_external_id"], name="flag_conv_ext_idx"),
        ]

    def __str__(self) -> str:
        return f"Flag on {self.conversation_external_id} at {self.flagged_at:%Y-%m-%d}"


class FeedbackKind(models.TextChoices):
    THUMBS_UP = "thumbs_up", _("Thumbs up")
    THUMBS_DOWN = "thumbs_down", _("Thumbs down")
    BUG_REPORT = "bug_report", _("Bug report")


class Feedback(models.Model):
    """A feedback submission with its own copy of the data it was about, so it
    outlives the conversation (Feedback Data: kept 5 years)."""

    content_fields: ClassVar[tuple[str, ...]] = ("comment", "excerpt")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="feedback"
    )
    external_id = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    comment = models.TextField(blank=True)
    excerpt = models.TextField(blank=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.DB_SET_NULL, null=True, blank=True, related_name="feedback"
    )
    conversation_external_id = models.CharField(max_length=128, blank=True)
    submitted_at = models.DateTimeField()
    public_retain_until = models.DateTimeField()
    # Effective deadline; null while a legal hold covers it or for commercial accounts.
    retain_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["retain_until"], name="feedback_retain_until_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class LegalHold(models.Model):
    """A hold on a whole account (conversation empty) or on one conversation.
    Active while `released_at` is empty. Never shown to the end user."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "Whole account"
        CONVERSATION = "conversation", "One conversation"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="legal_holds"
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ACCOUNT)
    # A held conversation is never purged; once released it may be, and the
    # hold keeps the conversation's external id as its record.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    conversation_external_id = models.CharField(max_length=128, blank=True)
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user"], name="hold_active_user_idx", condition=models.Q(released_at=None)
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="account", conversation_external_id="")
                | (models.Q(scope="conversation") & ~models.Q(conversation_external_id="")),
                name="hold_scope_matches_target",
            )
        ]

    def __str__(self) -> str:
        if self.scope == self.Scope.CONVERSATION:
            return f"Hold on conversation {self.conversation_external_id}"
        return f"Hold on account {self.user.email}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class TrainingRun(models.Model):
    external_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name


class TrainingRunConversation(models.Model):
    """A conversation a run used, recorded when the run starts. Kept after the
    conversation is purged: the model was trained on it."""

    run = models.ForeignKey(TrainingRun, on_delete=models.DB_CASCADE, related_name="uses")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.DB_SET_NULL, null=True, related_name="training_uses"
    )
    conversation_external_id = models.CharField(max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "conversation_external_id"], name="run_conversation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_external_id} in run {self.run_id}"


class PolicyDocument(models.Model):
    """A version of the help article: shipped as data (retention/data/), or
    published by a change of the policy settings, stating the new durations
    (`changes` says what changed; empty for the shipped text)."""

    version = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    # Not unique: settings changed and changed back publish the same text again.
    source_sha256 = models.CharField(max_length=64, db_index=True)
    text = models.TextField()
    loaded_at = models.DateTimeField(default=timezone.now)
    effective_at = models.DateTimeField(default=timezone.now)
    changes = models.TextField(blank=True)
    is_current = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_policy_document",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class PolicyNoticeRead(models.Model):
    """A user dismissed the notice of a published policy version: the
    overview stops showing "Our retention policy changed on ..." for it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="+"
    )
    document = models.ForeignKey(PolicyDocument, on_delete=models.DB_CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="policy_notice_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.document_id}"


class PolicySection(models.Model):
    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="sections")
    anchor = models.SlugField(max_length=100)
    heading = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "anchor"], name="section_anchor_unique")
        ]

    def __str__(self) -> str:
        return self.heading


class PolicySettings(models.Model):
    """The durations of the rules table, editable by privacy admins. One row."""

    not_shared_days = models.PositiveIntegerField(default=30)
    shared_training_years = models.PositiveIntegerField(default=5)
    deleted_days = models.PositiveIntegerField(default=30)
    flagged_content_years = models.PositiveIntegerField(default=2)
    flagged_scores_years = models.PositiveIntegerField(default=7)
    feedback_years = models.PositiveIntegerField(default=5)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "policy settings"
        verbose_name_plural = "policy settings"

    def __str__(self) -> str:
        return "Policy settings"


class PolicySettingChange(AppendOnlyModel):
    field = models.CharField(max_length=64)
    old_value = models.PositiveIntegerField()
    new_value = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]


class DeletionReceipt(AppendOnlyModel):
    """Proof that a conversation's content was purged: never its content or
    title. Each receipt carries the hash of the previous one (a chain)."""

    sequence = models.BigIntegerField(unique=True)
    # Written once per purged conversation, so every index and check here is
    # paid 1,000 times a batch. The owner's id is copied from the conversation
    # deleted in the same transaction (whose own foreign key vouches for it);
    # a database constraint would re-check it at every commit by taking a
    # share lock on the account row, queueing the purge behind consent changes
    # (which lock that row), and would tie proof to the account's existence.
    # receipt_user_idx serves the owner's lookups, so no index of its own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        related_name="deletion_receipts",
        db_index=False,
        db_constraint=False,
    )
    conversation_external_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=ConversationKind.choices)
    rule = models.CharField(max_length=16, choices=Rule.choices)
    deleted_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateTimeField()
    purged_at = models.DateTimeField()
    messages_removed = models.PositiveIntegerField()
    previous_hash = models.CharField(max_length=64)
    receipt_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["user", "-purged_at"], name="receipt_user_idx"),
            models.Index(fields=["conversation_external_id"], name="receipt_conv_ext_idx"),
        ]
        # A constraint rather than unique=True: exact lookups only, so no
        # second (LIKE) index on PostgreSQL.
        constraints = [
            models.UniqueConstraint(fields=["receipt_hash"], name="receipt_hash_unique"),
        ]


class PurgeStatistic(models.Model):
    """De-identified counts of purged content, kept indefinitely (no account)."""

    day = models.DateField()
    rule = models.CharField(max_length=16, choices=Rule.choices)
    plan = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    conversations = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "rule", "plan", "kind"], name="purge_statistic_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.rule} {self.plan} {self.kind}: {self.conversations} purged"


class PurgeRun(models.Model):
    """One run of the purge job, for deletion health and the admin."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped (another run held the lock)"
        FAILED = "failed", "Failed"
        DRY_RUN = "dry_run", "Dry run"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cutoff = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    conversations_purged = models.PositiveIntegerField(default=0)
    messages_purged = models.PositiveIntegerField(default=0)
    scores_purged = models.PositiveIntegerField(default=0)
    feedback_purged = models.PositiveIntegerField(default=0)
    max_delay_seconds = models.FloatField(default=0)
    batches = models.PositiveIntegerField(default=0)
    # Conversations purged (or, for a dry run, that would be) per rule code.
    counts_by_rule = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="purge_run_started_idx")]

    def __str__(self) -> str:
        return f"Purge run {self.pk} at {self.cutoff:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class PurgeLock(models.Model):
    """A lease that lets one purge run at a time, on every database (nothing
    lives in a database session, so it works behind PgBouncer). Claimed by an
    atomic UPDATE ... WHERE locked_until < now, renewed between batches (once
    a tenth of the lease has gone by), released in a finally; a crashed
    holder's lease simply runs out."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField()
    # When the current holder claimed it: deletion health reports a lease held
    # longer than a run may live.
    acquired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
