"""Secrets and keys of connected systems, as pure functions.

A signing secret follows Standard Webhooks (`whsec_` + base64 of 32 random
bytes): the portal signs with it, the system verifies. An API key
(`csk_` + 43 URL-safe characters, 256 random bits) is how the system calls the
portal; only its SHA-256 is stored, so a database dump yields no usable key.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
KEY_PREFIX = "csk_"
# Characters of the key stored in clear to find its row (the key's first
# random characters: a lookup hint, worthless without the rest).
LOOKUP_LENGTH = 12

SCOPES: tuple[str, ...] = ("events", "training_runs", "changes", "erasures")


def signing_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def api_key_new() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_lookup(key: str) -> str:
    return key[:LOOKUP_LENGTH]


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_matches(key: str, stored_hash: str) -> bool:
    """Constant time, so the answer's timing tells nothing about the hash."""
    return hmac.compare_digest(api_key_hash(key).encode(), stored_hash.encode())


def looks_like_api_key(token: str) -> bool:
    """A system's key rather than the chat service's PORTAL_INGEST_TOKEN."""
    return token.startswith(KEY_PREFIX)
