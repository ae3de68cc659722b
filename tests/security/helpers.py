"""Shared pieces of the security suite: the routes of the URLconf and a
fingerprint of the database, to prove that a refused request changed nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.urls import URLResolver, get_resolver

# Rows that a request may write without changing anything the product keeps:
# the session itself (flash messages) and django-axes' sign-in bookkeeping.
NOT_PRODUCT_DATA = frozenset(
    {"sessions.Session", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
)


@dataclass(frozen=True)
class Route:
    pattern: str  # the full resolver pattern, e.g. "conversations/<str:external_id>/"
    name: str | None  # "dashboard:conversation", or None for an unnamed route
    callback: Callable

    @property
    def key(self) -> str:
        """How the suite's tables name a route: its URL name, else its pattern."""
        return self.name or self.pattern

    @property
    def takes_arguments(self) -> bool:
        return "<" in self.pattern or "(?P<" in self.pattern

    @property
    def csrf_exempt(self) -> bool:
        return getattr(self.callback, "csrf_exempt", False)


def routes(patterns=None, prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    """Every route of the URLconf, namespaces joined as reverse() spells them."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(prefix + str(pattern.pattern), name, pattern.callback)


# The portal's own apps: every table of accounts, consent, retention, ingest
# and the access log.
PORTAL_APPS = frozenset({"accounts", "retention", "ingest", "support"})


def database_fingerprint(
    *, ignore: frozenset[str] = frozenset(), only_apps: frozenset[str] | None = None
) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row, per model, for every installed model
    (or those of `only_apps`) but NOT_PRODUCT_DATA and `ignore` (labels like
    "staff.AccessLog"). Updates show as well as inserts and deletes."""
    fingerprint = {}
    for model in apps.get_models():
        label = model._meta.label
        if label in NOT_PRODUCT_DATA or label in ignore:
            continue
        if only_apps is not None and model._meta.app_label not in only_apps:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        digest = hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()
        fingerprint[label] = (len(rows), digest)
    return fingerprint


def changed_models(before: dict, after: dict) -> list[str]:
    return sorted(
        label for label in before.keys() | after.keys() if before.get(label) != after.get(label)
    )


def body_text(response) -> str:
    """The whole body, streamed or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def route_path(route: Route, fill: Callable[[str, str], str] | None = None) -> str:
    """A concrete path of `route`: each argument (`<int:account_id>`, or a
    regex group of admin's `(?P<app_label>auth|accounts|...)`) replaced by
    `fill(converter, name)` (already URL-quoted), by default a plausible
    value: "1" for ints, a regex group's first alternative, "x" otherwise."""

    def default(converter: str, name: str) -> str:
        return "1" if converter in ("int", "path") or name.endswith("id") else "x"

    fill = fill or default
    pattern = _CONVERTER.sub(lambda m: fill(m["converter"] or "str", m["name"]), route.pattern)
    if "(?P<" in pattern or "^" in pattern or "$" in pattern:
        pattern = _REGEX_GROUP.sub(
            lambda m: m["body"].split("|")[0].replace(".*", "") or fill("regex", m["name"]),
            pattern,
        )
        pattern = pattern.replace("^", "").replace("$", "")
    return "/" + pattern
