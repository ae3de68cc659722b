"""The shapes the chat service may send, as pydantic models.

These check structure only (types, required fields, value ranges); whether an
account or conversation exists is decided while applying (ingest.services),
because an event may refer to an account upserted earlier in the same batch.
Validation is strict: a bool is not a number, "1" is not a bool, a datetime
is an ISO 8601 string with a time zone (never a number: pydantic's lax mode
would read `0` as 1970 and make content due at once). Every id the chat
service sends but the event id follows the pages' one id rule
(accounts.external_ids). Unknown extra fields are ignored so the chat service
can add fields without breaking older portals.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from accounts.external_ids import JSON_PATTERN as EXTERNAL_ID_JSON_PATTERN
from accounts.external_ids import RULE as EXTERNAL_ID_RULE
from accounts.external_ids import is_valid_external_id
from accounts.models import COMMERCIAL_PLANS, CONSUMER_PLANS, AccountType

# A timestamp further in the future than this is a clock or encoding bug on
# the sender's side; storing it would stretch every deadline derived from it.
MAX_CLOCK_SKEW = timedelta(hours=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def json_loads(raw: bytes | str) -> object:
    """json.loads without NaN and Infinity, which are not JSON."""

    def _refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not valid JSON")

    return json.loads(raw, parse_constant=_refuse)


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates (legal in JSON
    # escapes) cannot be encoded as UTF-8: refuse both here, not with a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def _plausible_time(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("must not be before 1970-01-01T00:00:00Z")
    if value > timezone.now() + MAX_CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value.astimezone(UTC)


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("must be a valid email address") from None
    return value


def _openable_id(value: str) -> str:
    # The one validator the pages, the API and the console use: an id they
    # could not open is refused here, naming its field.
    if not is_valid_external_id(value):
        raise ValueError(f"must be an id the portal's pages can open: {EXTERNAL_ID_RULE}")
    return value


# An ISO 8601 date and time: the date, a separator, hours and minutes.
_ISO_DATETIME_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_string(value: object) -> object:
    # Before pydantic's lax datetime parsing, which would take a number or a
    # numeric string as seconds since 1970 (and a bool as 0 or 1).
    if not isinstance(value, str) or not _ISO_DATETIME_START.match(value):
        raise ValueError("must be an ISO 8601 datetime string with a time zone")
    return value


Text = Annotated[str, Field(strict=True), AfterValidator(_storable)]
# Every id of the chat service's but the event id follows the one id rule the
# pages use: a conversation's is a segment of the user's links, an account's
# is what the support console looks up, a training run's is a segment of
# /api/internal/training-runs/<id>/conversations, and message and feedback
# ids are searched in admin. One rule, so none is stored that a page or an
# API path could not open.
Id = Annotated[
    str,
    Field(strict=True, json_schema_extra={"pattern": EXTERNAL_ID_JSON_PATTERN}),
    AfterValidator(_openable_id),
]
OpenableId = Id
ConversationId = Id
AccountId = Id
# The idempotency key: never shown or opened, so any storable text.
EventId = Annotated[
    str, Field(strict=True, min_length=1, max_length=200), AfterValidator(_storable)
]
# JSON has no datetime: a string, parsed by pydantic (lax, for the string
# only), after _iso_string has refused everything that is not one.
Timestamp = Annotated[
    AwareDatetime,
    Field(strict=False),
    BeforeValidator(_iso_string),
    AfterValidator(_plausible_time),
]
Score = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
ScoreName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_storable)]


class Schema(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class AccountData(Schema):
    id: AccountId
    email: Annotated[str, Field(max_length=254), AfterValidator(_storable), AfterValidator(_email)]
    type: Literal["consumer", "commercial"]
    plan: Literal["free", "pro", "max", "team", "enterprise", "api"]

    @field_validator("plan")
    @classmethod
    def _plan_fits_type(cls, plan: str, info: ValidationInfo) -> str:
        account_type = info.data.get("type")
        if account_type is None:  # the type itself is invalid and reported
            return plan
        plans = CONSUMER_PLANS if account_type == AccountType.CONSUMER else COMMERCIAL_PLANS
        if plan not in plans:
            allowed = ", ".join(sorted(plans))
            raise ValueError(f"{plan!r} is not a {account_type} plan ({allowed})")
        return plan


class ConversationData(Schema):
    id: ConversationId
    kind: Literal["chat", "coding_session"]
    title: Annotated[Text, Field(max_length=500)] = ""


class MessageData(Schema):
    id: Id
    role: Literal["user", "assistant"]
    content: Text


class FeedbackData(Schema):
    id: Id
    kind: Literal["thumbs_up", "thumbs_down", "bug_report"]
    comment: Text = ""
    conversation: ConversationId | None = None
    excerpt: Text = ""


class Event(Schema):
    id: EventId
    at: Timestamp


class AccountUpserted(Event):
    type: Literal["account.upserted"]
    account: AccountData


class ConsentChanged(Event):
    type: Literal["consent.changed"]
    account: AccountId
    allowed: bool


class MessageAdded(Event):
    type: Literal["message.added"]
    account: AccountId
    conversation: ConversationData
    message: MessageData


class ConversationDeleted(Event):
    type: Literal["conversation.deleted"]
    account: AccountId
    conversation: ConversationId


class ConversationFlagged(Event):
    type: Literal["conversation.flagged"]
    account: AccountId
    conversation: ConversationId
    scores: Annotated[dict[ScoreName, Score], Field(min_length=1, max_length=100)]


class FeedbackSubmitted(Event):
    type: Literal["feedback.submitted"]
    account: AccountId
    feedback: FeedbackData


AnyEvent = Annotated[
    AccountUpserted
    | ConsentChanged
    | MessageAdded
    | ConversationDeleted
    | ConversationFlagged
    | FeedbackSubmitted,
    Field(discriminator="type"),
]
EVENT_TYPES = (
    "account.upserted",
    "consent.changed",
    "message.added",
    "conversation.deleted",
    "conversation.flagged",
    "feedback.submitted",
)
_event_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
MAX_EVENTS = 1000


class EventBatch(Schema):
    """The body of POST /api/internal/events, as the API description shows
    it. The view validates event by event (ingest.services.events_validate),
    so that every invalid event is reported with its index."""

    events: Annotated[list[AnyEvent], Field(max_length=MAX_EVENTS)]


class TrainingRunData(Schema):
    id: Id
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    started_at: Timestamp


# --- Answers (for the API description; the views build the same dicts) -----


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorItem(Answer):
    index: int | None = Field(description="Position of the event in the batch, or null")
    field: str | None = Field(description="Dotted path inside the event or body, or null")
    error: str


class Errors(Answer):
    """Every error of /api/internal/."""

    errors: Annotated[list[ErrorItem], Field(min_length=1)]


class EventsAccepted(Answer):
    accepted: int = Field(ge=0, description="Events applied now")
    duplicates: int = Field(ge=0, description="Events whose id was seen before")


class TrainingRunAnswer(Answer):
    id: str
    name: str
    started_at: AwareDatetime
    conversations: int = Field(ge=0)


class TrainingRunConversationsPage(Answer):
    conversations: list[str]
    next: str | None = Field(description="Cursor of the next page, or null on the last")


_MESSAGES = {
    "missing": "this field is required",
    "union_tag_not_found": "this field is required",
    "union_tag_invalid": "unknown event type; expected one of " + ", ".join(EVENT_TYPES),
    "timezone_aware": "must be an ISO 8601 datetime with a time zone",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "model_attributes_type": "must be an object",
}


Problem = tuple[str | None, str]  # (dotted field path or None for the whole value, message)


def field_errors(exc: ValidationError, *, tag: str | None = None) -> list[Problem]:
    """pydantic's errors as (dotted field path, message) pairs. The union tag
    pydantic puts first in the location of a discriminated union is dropped,
    so paths read as the sender wrote them (`message.role`)."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = list(err["loc"])
        if tag is not None and loc and loc[0] == tag:
            loc = loc[1:]
        if err["type"] in ("union_tag_not_found", "union_tag_invalid"):
            loc = ["type"]
        message = _MESSAGES.get(err["type"], err["msg"])
        if err["type"] == "value_error":
            message = err["msg"].removeprefix("Value error, ")
        out.append((".".join(str(part) for part in loc) or None, message))
    return out


def event_validate(raw: object) -> tuple[AnyEvent | None, list[Problem]]:
    """One raw event (as decoded from JSON): the parsed event, or its problems."""
    try:
        return _event_adapter.validate_python(raw), []
    except ValidationError as exc:
        tag = raw.get("type") if isinstance(raw, dict) else None
        return None, field_errors(exc, tag=tag if isinstance(tag, str) else None)


def event_digest(event: AnyEvent) -> str:
    """SHA-256 of the event's canonical body: the parsed event (defaults
    filled in, unknown fields dropped, times in UTC) as sorted JSON. Two
    deliveries of one event have the same digest however they were spelled."""
    canonical = json.dumps(
        event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def training_run_validate(raw: object) -> tuple[TrainingRunData | None, list[Problem]]:
    try:
        return TrainingRunData.model_validate(raw), []
    except ValidationError as exc:
        return None, field_errors(exc)
