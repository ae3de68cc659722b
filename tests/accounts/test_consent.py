""" "The consent in force at a moment" has one definition (accounts.consent)
and an SQL twin (accounts.selectors.consent_allowed_at, used by training
runs and ingest): the two give the same answer for any ledger and moment,
ties at the same instant included."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.consent import ConsentEntry, consent_at
from accounts.models import ConsentChange, ConsentSource, User
from accounts.selectors import consent_allowed, consent_allowed_at
from tests.factories import UserFactory, utc

BASE = utc(2026, 1, 1)
# Few distinct instants, so that ties (two entries at the same moment) are common.
instants = st.integers(0, 6).map(lambda n: BASE + timedelta(days=n))


def test_no_entry_means_not_allowed():
    assert consent_at([], BASE) is False


def test_the_latest_entry_at_or_before_the_moment_counts_and_a_later_one_does_not():
    ledger = [ConsentEntry(BASE, True), ConsentEntry(BASE + timedelta(days=2), False)]
    assert consent_at(ledger, BASE - timedelta(seconds=1)) is False
    assert consent_at(ledger, BASE) is True
    assert consent_at(ledger, BASE + timedelta(days=1)) is True
    assert consent_at(ledger, BASE + timedelta(days=2)) is False


def test_of_two_entries_at_the_same_instant_the_one_recorded_last_counts():
    assert consent_at([ConsentEntry(BASE, True), ConsentEntry(BASE, False)], BASE) is False
    assert consent_at([ConsentEntry(BASE, False), ConsentEntry(BASE, True)], BASE) is True


class SqlTwinAgreesWithTheLedgerRule(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        entries=st.lists(st.tuples(instants, st.booleans()), max_size=6),
        moment=instants.map(lambda at: at + timedelta(hours=12)) | instants,
    )
    def test_sql_and_pure_answers_are_equal(self, entries, moment):
        user = UserFactory()
        # Written in the order given, so the ids (the tie-break) follow it.
        ConsentChange.objects.bulk_create(
            ConsentChange(
                user=user,
                allowed=allowed,
                effective_at=at,
                source=ConsentSource.IMPORT,
                article_version="v-test",
            )
            for at, allowed in entries
        )
        ledger = [
            ConsentEntry(at, allowed)
            for at, allowed in ConsentChange.objects.filter(user=user)
            .order_by("effective_at", "id")
            .values_list("effective_at", "allowed")
        ]
        expected = consent_at(ledger, moment)
        in_sql = (
            User.objects.filter(pk=user.pk)
            .annotate(allowed=consent_allowed_at(user_ref="pk", moment=moment))
            .values_list("allowed", flat=True)
            .get()
        )
        assert bool(in_sql) is expected
        assert consent_allowed(user_id=user.pk, at=moment) is expected
