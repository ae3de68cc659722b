"""Who may do what: the three kinds of people and their permission sets.

End users see their own data only (the dashboard). Support agents use the
support console and nothing else: they are not staff, so Django admin refuses
them. Privacy admins are staff: they use Django admin to view everything, place
and release legal holds and edit the policy durations; nobody, superusers
included, can change or delete the ledgers (consent, deletion receipts, staff
access log, policy setting changes): their ModelAdmins grant no write at all.

The groups are created by a data migration (accounts 0003) from the sets below;
`groups_sync` is written against the historical app registry so the migration
and any later one can call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.apps.registry import Apps

    from accounts.models import User


class StaffRole(models.TextChoices):
    """Who made a request, as the staff access log records it."""

    SUPPORT_AGENT = "support_agent", _("Support agent")
    PRIVACY_ADMIN = "privacy_admin", _("Privacy admin")
    END_USER = "end_user", _("End user")
    ANONYMOUS = "anonymous", _("Anonymous")


PRIVACY_ADMINS = "Privacy admins"
SUPPORT_AGENTS = "Support agents"

# The one permission of the support console (declared on staff.AccessLog).
SUPPORT_CONSOLE_CODENAME = "use_console"
SUPPORT_CONSOLE_PERMISSION = f"staff.{SUPPORT_CONSOLE_CODENAME}"

# Every model of the product a privacy admin may look at, as (app_label, model).
VIEWABLE_MODELS: tuple[tuple[str, str], ...] = (
    ("accounts", "user"),
    ("accounts", "consentchange"),
    ("retention", "conversation"),
    ("retention", "message"),
    ("retention", "flag"),
    ("retention", "feedback"),
    ("retention", "legalhold"),
    ("retention", "trainingrun"),
    ("retention", "trainingrunconversation"),
    ("retention", "policydocument"),
    ("retention", "policysection"),
    ("retention", "policysettings"),
    ("retention", "policysettingchange"),
    ("retention", "deletionreceipt"),
    ("retention", "purgestatistic"),
    ("retention", "purgerun"),
    ("staff", "accesslog"),
    ("ingest", "ingestedevent"),
)

# (app_label, codename): view everything, place/release holds, edit durations,
# use the console. Deliberately no delete anywhere.
PRIVACY_ADMIN_PERMISSIONS: frozenset[tuple[str, str]] = frozenset(
    {(app, f"view_{model}") for app, model in VIEWABLE_MODELS}
    | {
        ("retention", "add_legalhold"),
        ("retention", "change_legalhold"),
        ("retention", "change_policysettings"),
        ("staff", SUPPORT_CONSOLE_CODENAME),
    }
)
SUPPORT_AGENT_PERMISSIONS: frozenset[tuple[str, str]] = frozenset(
    {("staff", SUPPORT_CONSOLE_CODENAME)}
)

GROUP_PERMISSIONS: dict[str, frozenset[tuple[str, str]]] = {
    PRIVACY_ADMINS: PRIVACY_ADMIN_PERMISSIONS,
    SUPPORT_AGENTS: SUPPORT_AGENT_PERMISSIONS,
}

_CUSTOM_PERMISSION_NAMES = {
    (
        "staff",
        SUPPORT_CONSOLE_CODENAME,
    ): "Can use the support console (read-only account lookups)",
}


def _in_group(user: User, name: str) -> bool:
    cache = getattr(user, "_portal_group_names", None)
    if cache is None:
        cache = frozenset(user.groups.values_list("name", flat=True))
        user._portal_group_names = cache
    return name in cache


def is_privacy_admin(user: User | None) -> bool:
    """Superusers count as privacy admins. Django admin additionally requires
    is_staff, which the role grant sets."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or _in_group(user, PRIVACY_ADMINS)


def is_support_agent(user: User | None) -> bool:
    """A console user who is not a privacy admin (membership of the group, or
    the console permission given directly)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_privacy_admin(user):
        return False
    return _in_group(user, SUPPORT_AGENTS) or user.has_perm(SUPPORT_CONSOLE_PERMISSION)


def can_use_console(user: User | None) -> bool:
    return is_privacy_admin(user) or is_support_agent(user)


def opens_admin(user: User | None) -> bool:
    """Django admin lets in active staff; privacy admins (and superusers) are."""
    return bool(user is not None and user.is_active and user.is_staff) and is_privacy_admin(user)


def home_url_name(user: User | None) -> str:
    """Where a person starts after signing in (a URL name): Django admin for
    privacy admins, the support console for support agents, the overview for
    everyone else."""
    if opens_admin(user):
        return "admin:index"
    if can_use_console(user):
        return "support:index"
    return "dashboard:overview"


def role_of(user: User | None) -> str:
    """The access-log role of whoever made a request."""
    if user is None or not user.is_authenticated:
        return StaffRole.ANONYMOUS
    if is_privacy_admin(user):
        return StaffRole.PRIVACY_ADMIN
    if is_support_agent(user):
        return StaffRole.SUPPORT_AGENT
    return StaffRole.END_USER


def staff_role_grant(*, user: User, group_name: str) -> None:
    """Put `user` in a role group. Privacy admins become staff (Django admin);
    support agents are never staff, so Django admin stays closed to them."""
    if group_name not in GROUP_PERMISSIONS:
        raise ValueError(f"Unknown role group {group_name!r}.")
    user.groups.add(Group.objects.get(name=group_name))
    user.is_staff = group_name == PRIVACY_ADMINS
    user.save(update_fields=["is_staff"])
    for cache in ("_portal_group_names", "_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)


def groups_sync(apps: Apps) -> None:
    """Create both groups with exactly their permission sets (idempotent).

    Permissions are normally created after migrations (post_migrate); this
    creates the ones it needs first so a fresh database gets complete groups.
    A permission of a model the historical state `apps` does not have yet is
    left out: the migration that brings the model syncs the groups again
    (accounts 0004 after the access log moved to `staff`)."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")

    def known(app_label: str, model: str) -> bool:
        try:
            apps.get_model(app_label, model)
        except LookupError:
            return False
        return True

    def model_of(codename: str) -> str:
        return "accesslog" if codename == SUPPORT_CONSOLE_CODENAME else codename.split("_", 1)[1]

    def permission(app_label: str, codename: str):
        if codename == SUPPORT_CONSOLE_CODENAME:
            model, name = "accesslog", _CUSTOM_PERMISSION_NAMES[(app_label, codename)]
        else:
            action, model = codename.split("_", 1)
            verbose = apps.get_model(app_label, model)._meta.verbose_name
            name = f"Can {action} {verbose}"
        content_type, _ = content_type_model.objects.get_or_create(app_label=app_label, model=model)
        perm, _ = permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        return perm

    for group_name, perms in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        group.permissions.set(
            [
                permission(app, codename)
                for app, codename in sorted(perms)
                if known(app, model_of(codename))
            ]
        )


def groups_remove(apps: Apps) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUP_PERMISSIONS)).delete()
