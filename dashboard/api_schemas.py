"""The shapes of /api/me/ as pydantic models, for the published API
description (privacy_portal/openapi.py, /api/openapi.json). The views build
plain dicts (dashboard/api.py, dashboard/selectors/api.py); these models
describe them, and tests/security/test_openapi.py holds the two equal by
fuzzing every operation against the document."""

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from retention.models import Rule


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeError(_Answer):
    """Every error of /api/me/."""

    error: str = Field(description="A stable code: not_authenticated, not_found, bad_json, ...")
    detail: str = Field(description="A sentence for a person.")


class Quote(_Answer):
    section: str
    quote: str


class ConversationItem(_Answer):
    id: str
    title: str
    kind: str
    last_activity_at: AwareDatetime
    rule: Rule = Field(description="The rule code (docs/retention-rules.md)")
    retain_until: AwareDatetime | None
    shared_for_training: bool
    training_runs: list[str]
    future_training: bool
    flagged: bool
    explanation: list[Quote]


class ConversationPage(_Answer):
    conversations: list[ConversationItem]
    next: str | None = Field(description="Cursor of the next page, or null on the last")


class SystemConfirmation(_Answer):
    name: str = Field(description="A connected system that must confirm this item's erasure")
    confirmed_at: AwareDatetime | None = Field(description="Null until it confirms")


class DeletedItem(_Answer):
    id: str
    deleted_at: AwareDatetime | None
    retain_until: AwareDatetime | None
    purged_at: AwareDatetime | None
    systems: list[SystemConfirmation]


class DeletedList(_Answer):
    deleted: list[DeletedItem]


class ConsentChoice(BaseModel):
    """The body of POST /api/me/consent."""

    model_config = ConfigDict(strict=True)

    allowed: bool


class ConsentAnswer(_Answer):
    allowed: bool
    since: str | None = Field(description="When the consent in force was given (ISO 8601)")
    changed: bool


class AutoDeleteSetting(BaseModel):
    """The body of POST /api/me/auto-delete, and the answer of GET and POST:
    conversations are deleted this many calendar months after their last
    activity; null is off."""

    model_config = ConfigDict(strict=True, extra="forbid")

    after_months: Literal[3, 18, 36] | None = Field(
        description="3, 18 or 36 months after a conversation's last activity; null: off"
    )


class AccountDeleteConfirm(BaseModel):
    """The body of DELETE /api/me/account."""

    model_config = ConfigDict(strict=True)

    confirm: str = Field(description="The account's email address (case does not matter)")


class KeptItem(_Answer):
    kind: Literal["deleted_conversations", "flagged_content", "classification_scores", "feedback"]
    count: int
    until: AwareDatetime | None = Field(
        description="The last of them is removed by then (by the first purge after it)"
    )


class AccountDeleted(_Answer):
    deleted_at: AwareDatetime
    conversations_deleted: int = Field(description="Conversations that left the history now")
    consent_withdrawn: bool = Field(description="False when training use was already off")
    sign_in_disabled: bool
    sessions_ended: bool = Field(description="Every session of the account, on every device")
    kept: list[KeptItem] = Field(description="What the article keeps to its own date")
    account_erased: bool = Field(
        description="True when nothing was kept: the account record is erased now; otherwise "
        "by the first purge after the last `until`"
    )


class Export(BaseModel):
    """Everything the portal keeps about the user: the same document as
    /export/ (its sections are described in docs/architecture.md)."""

    model_config = ConfigDict(extra="allow")

    exported_at: AwareDatetime
    note: str
    account: dict[str, Any]
