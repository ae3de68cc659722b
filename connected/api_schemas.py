"""The answers of the connected systems' API (the change feed, erasure
confirmations) as pydantic models, for the published API description
(privacy_portal/openapi.py); connected/views.py builds them as plain dicts."""

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangeEvent(_Answer):
    id: str = Field(description="The event's id, the same as its webhook-id")
    type: str = Field(description="One of the event types of docs/connected-systems.md")
    timestamp: AwareDatetime
    data: dict[str, Any] = Field(description="External ids and times only, never content")


class ChangesPage(_Answer):
    events: list[ChangeEvent]
    next: str | None = Field(description="Cursor of the next page (`after`), or null at the end")


class ErasureConfirmed(_Answer):
    id: str
    confirmed_at: AwareDatetime = Field(description="The first confirmation's time")
