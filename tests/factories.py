"""factory_boy factories for the domain. Deadlines are never set here: tests
create facts through the services, which compute them."""

from datetime import UTC, datetime

import factory

from accounts.models import AccountType, Plan, User
from retention.models import DeletionReceipt, Rule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    external_id = factory.Sequence(lambda n: f"acct_{n}")
    account_type = AccountType.CONSUMER
    plan = Plan.FREE
    password = factory.django.Password("correct horse battery staple")


class CommercialUserFactory(UserFactory):
    account_type = AccountType.COMMERCIAL
    plan = Plan.TEAM


class StaffFactory(UserFactory):
    external_id = None
    is_staff = True


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class DeletionReceiptFactory(factory.django.DjangoModelFactory):
    """A receipt as the purge leaves it, the conversation row being gone.
    The hashes are placeholders: a chain of these does not verify."""

    class Meta:
        model = DeletionReceipt

    sequence = factory.Sequence(lambda n: n + 1)
    user = factory.SubFactory(UserFactory)
    conversation_external_id = factory.Sequence(lambda n: f"purged-{n}")
    kind = "chat"
    rule = Rule.NOT_SHARED
    retain_until = utc(2026, 2, 1)
    purged_at = utc(2026, 2, 2)
    messages_removed = 1
    previous_hash = "0" * 64
    receipt_hash = factory.LazyAttribute(lambda receipt: f"{receipt.sequence:064d}")
