"""factory_boy factories for the domain. Deadlines are never set here: tests
create facts through the services, which compute them."""

from datetime import UTC, datetime

import factory

from accounts.models import AccountType, Plan, User


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
