"""Shared pieces of the dashboard selectors that need no database."""

import pytest
from django.urls import NoReverseMatch, reverse

from dashboard.selectors.common import id_url


@pytest.mark.parametrize("viewname", ["dashboard:conversation", "dashboard:conversation_delete"])
@pytest.mark.parametrize(
    "external_id",
    ["c1", "a.b_c:d~e-f", "__id__", "with space", "50%", "q?x=1#y", "é日本", "a@b+c$"],
)
def test_id_url_gives_what_reverse_gives_for_any_id(viewname, external_id):
    assert id_url(viewname)(external_id) == reverse(viewname, args=[external_id])


def test_id_url_refuses_a_route_that_takes_no_id():
    with pytest.raises(NoReverseMatch):
        id_url("dashboard:overview")
