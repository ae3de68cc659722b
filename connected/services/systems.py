"""Registering, rotating and disabling connected systems. The secret and the
key exist in clear only in the `Credentials` these return: callers show them
once (the command's output, an admin message) and never again."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from connected import credentials
from connected.events import EVENT_TYPES
from connected.models import ApiKey, ConnectedSystem


class SystemRefused(ValueError):
    """Bad input for a system: the message says why, in one line."""


@dataclass(frozen=True)
class Credentials:
    system_id: int
    name: str
    signing_secret: str
    api_key: str

    def as_dict(self) -> dict:
        return {
            "id": self.system_id,
            "name": self.name,
            "signing_secret": self.signing_secret,
            "api_key": self.api_key,
        }


def _checked_events(events: Sequence[str]) -> list[str]:
    events = [e.strip() for e in events if e.strip()]
    if not events:
        raise SystemRefused(f"subscribe to at least one event type: {', '.join(EVENT_TYPES)}")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise SystemRefused(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    return sorted(set(events), key=EVENT_TYPES.index)


def _checked_scopes(scopes: Sequence[str] | None) -> list[str]:
    if scopes is None:
        return list(credentials.SCOPES)
    scopes = [s.strip() for s in scopes if s.strip()]
    unknown = [s for s in scopes if s not in credentials.SCOPES]
    if unknown or not scopes:
        raise SystemRefused(
            f"unknown scope {(unknown or [''])[0]!r}; known: {', '.join(credentials.SCOPES)}"
        )
    return sorted(set(scopes), key=credentials.SCOPES.index)


def url_check(url: str) -> str:
    """The endpoint as stored ('' for none). Raises SystemRefused unless it
    is an http(s) URL."""
    url = url.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise SystemRefused(f"not an http(s) URL: {url!r}") from None
    return url


def _key_issue(*, system: ConnectedSystem, scopes: list[str]) -> str:
    key = credentials.api_key_new()
    ApiKey.objects.create(
        system=system,
        prefix=credentials.api_key_lookup(key),
        key_hash=credentials.api_key_hash(key),
        scopes=scopes,
    )
    return key


def system_register(
    *,
    name: str,
    url: str = "",
    events: Sequence[str],
    confirms_erasure: bool = False,
    scopes: Sequence[str] | None = None,
) -> tuple[ConnectedSystem, Credentials]:
    """A new enabled system with a fresh secret and key (every scope unless
    `scopes` narrows it). Raises SystemRefused."""
    name = name.strip()
    if not name or len(name) > 100:
        raise SystemRefused("a name of 1 to 100 characters is required")
    fields = {
        "url": url_check(url),
        "events": _checked_events(events),
        "confirms_erasure": confirms_erasure,
    }
    checked_scopes = _checked_scopes(scopes)
    secret = credentials.signing_secret_new()
    try:
        with transaction.atomic():
            system = ConnectedSystem.objects.create(name=name, signing_secret=secret, **fields)
            key = _key_issue(system=system, scopes=checked_scopes)
    except IntegrityError:
        raise SystemRefused(f"a system named {name!r} exists already") from None
    return system, Credentials(system.pk, system.name, secret, key)


def system_get(*, name: str) -> ConnectedSystem:
    system = ConnectedSystem.objects.filter(name=name).first()
    if system is None:
        raise SystemRefused(f"no connected system named {name!r}")
    return system


def system_update(
    *, system: ConnectedSystem, url: str, events: Sequence[str], confirms_erasure: bool
) -> ConnectedSystem:
    system.url = url_check(url)
    system.events = _checked_events(events)
    system.confirms_erasure = confirms_erasure
    system.save(update_fields=["url", "events", "confirms_erasure"])
    return system


@transaction.atomic
def system_rotate(*, system_id: int, now: datetime | None = None) -> Credentials:
    """A new signing secret and a new key (same scopes as the newest key).
    The old secret keeps signing beside the new one for
    CONNECTED_SECRET_OVERLAP_HOURS; old keys stay valid until revoked."""
    now = now or timezone.now()
    system = ConnectedSystem.objects.select_for_update().get(pk=system_id)
    newest = system.api_keys.order_by("-created_at", "-pk").first()
    scopes = list(newest.scopes) if newest else list(credentials.SCOPES)
    system.previous_signing_secret = system.signing_secret
    system.previous_secret_expires_at = now + timedelta(
        hours=settings.CONNECTED_SECRET_OVERLAP_HOURS
    )
    system.signing_secret = credentials.signing_secret_new()
    system.save(
        update_fields=["signing_secret", "previous_signing_secret", "previous_secret_expires_at"]
    )
    key = _key_issue(system=system, scopes=scopes)
    return Credentials(system.pk, system.name, system.signing_secret, key)


def system_enable(*, system_id: int, enabled: bool) -> None:
    """A disabled system gets no event and its keys are refused; events of the
    time it was disabled are never sent to it."""
    ConnectedSystem.objects.filter(pk=system_id).update(enabled=enabled)


def api_keys_revoke(
    *, system_id: int, keep_newest: bool = True, now: datetime | None = None
) -> int:
    """Revoke the system's keys (all but the newest by default: the end of a
    rotation). Returns how many were revoked."""
    keys = ApiKey.objects.filter(system_id=system_id, revoked_at__isnull=True)
    if keep_newest:
        newest = keys.order_by("-created_at", "-pk").first()
        keys = keys.exclude(pk=newest.pk) if newest else keys
    return keys.update(revoked_at=now or timezone.now())
