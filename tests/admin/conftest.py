import pytest

from tests.factories import StaffFactory
from tests.support.helpers import make_privacy_admin, make_support_agent


@pytest.fixture
def privacy_admin(db):
    return make_privacy_admin()


@pytest.fixture
def agent(db):
    return make_support_agent()


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True)


@pytest.fixture
def admin_client(client, privacy_admin):
    client.force_login(privacy_admin)
    return client
