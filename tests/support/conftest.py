import pytest

from tests.support.helpers import make_privacy_admin, make_support_agent


@pytest.fixture
def agent(db):
    return make_support_agent()


@pytest.fixture
def privacy_admin(db):
    return make_privacy_admin()
