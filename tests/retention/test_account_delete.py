"""Deleting an account (retention.services.accounts.account_delete): every
conversation through the user's own deletion service, consent withdrawn,
sign-in disabled, every session ended, all or nothing; the record erased
by the purge once nothing of it is left, its receipts kept."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentChange, ConsentSource, User, UserSession
from accounts.services import consent_record
from connected.events import CONVERSATION_DELETED
from connected.models import OutboxEvent
from retention.models import Conversation, DeletionReceipt, PolicyNoticeRead
from retention.purge import purge_due
from retention.selectors.documents import current_article_version
from retention.services.accounts import AccountDeleteRefused, account_delete
from retention.services.conversations import conversation_flag, feedback_submit
from retention.services.holds import legal_hold_place
from tests.connected.factories import ConnectedSystemFactory
from tests.factories import CommercialUserFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def _signed_in_client(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _is_signed_in(client: Client) -> bool:
    return client.get(reverse("dashboard:overview")).status_code == 200


def _old_history(user, add_message, *, n=3, days_ago=60):
    """Conversations last active long ago: once deleted they are due at once."""
    start = timezone.now() - timedelta(days=days_ago)
    for i in range(n):
        add_message(user, start + timedelta(minutes=i), conversation=f"c-{user.pk}-{i}")


def test_every_conversation_is_deleted_by_the_users_own_service_with_its_events(
    consumer, add_message
):
    ConnectedSystemFactory()  # a system that hears every decision
    _old_history(consumer, add_message, n=3)
    result = account_delete(user=consumer, confirm_email=consumer.email)

    assert result.conversations_deleted == 3
    assert not Conversation.objects.filter(user=consumer, deleted_at__isnull=True).exists()
    # Same rule and outbound events as a delete from the conversation list.
    assert set(
        Conversation.objects.filter(user=consumer).values_list("public_rule", flat=True)
    ) == {"deleted"}
    events = OutboxEvent.objects.filter(type=CONVERSATION_DELETED, account=consumer.external_id)
    assert events.count() == 3


def test_consent_is_withdrawn_in_the_ledger_as_an_account_deletion(consumer):
    consent_record(
        user=consumer, allowed=True, source="dashboard", article_version=current_article_version()
    )
    result = account_delete(user=consumer, confirm_email=consumer.email)
    latest = ConsentChange.objects.filter(user=consumer).order_by("-effective_at", "-id").first()
    assert result.consent_withdrawn
    assert latest.allowed is False and latest.source == ConsentSource.ACCOUNT_DELETION


def test_sign_in_is_disabled_and_every_session_on_every_device_ends(consumer, add_message):
    _old_history(consumer, add_message, n=1, days_ago=1)
    laptop, phone = _signed_in_client(consumer), _signed_in_client(consumer)
    bystander = UserFactory()
    theirs = _signed_in_client(bystander)
    assert UserSession.objects.filter(user_id=consumer.pk).count() == 2

    account_delete(user=consumer, confirm_email=consumer.email.upper())  # case does not matter

    assert not _is_signed_in(laptop) and not _is_signed_in(phone)
    assert not UserSession.objects.filter(user_id=consumer.pk).exists()
    assert _is_signed_in(theirs)  # nobody else's session
    again = Client().post(reverse("login"), {"username": consumer.email, "password": PASSWORD})
    assert again.status_code == 200  # the form again: refused
    user = User.objects.get(pk=consumer.pk)
    assert not user.is_active and not user.has_usable_password()


def test_a_wrong_email_changes_nothing(consumer, add_message):
    ConnectedSystemFactory()
    _old_history(consumer, add_message, n=2, days_ago=1)
    client = _signed_in_client(consumer)
    for typed in ("", "someone@example.com", consumer.email + " ", None, 42):
        with pytest.raises(AccountDeleteRefused) as refused:
            account_delete(user=consumer, confirm_email=typed)
        assert refused.value.code == "wrong_email"
    assert Conversation.objects.filter(user=consumer, deleted_at__isnull=True).count() == 2
    assert not OutboxEvent.objects.filter(type=CONVERSATION_DELETED).exists()
    assert not ConsentChange.objects.filter(user=consumer).exists()
    user = User.objects.get(pk=consumer.pk)
    assert user.is_active and user.has_usable_password() and user.erasure_requested_at is None
    assert _is_signed_in(client)


@pytest.mark.parametrize("factory", [CommercialUserFactory, StaffFactory])
def test_commercial_and_staff_accounts_are_refused(factory):
    user = factory()
    with pytest.raises(AccountDeleteRefused) as refused:
        account_delete(user=user, confirm_email=user.email)
    assert refused.value.code in {"commercial_account", "staff_account"}
    assert User.objects.get(pk=user.pk).is_active


def test_deleting_again_changes_nothing_more(consumer, add_message):
    ConnectedSystemFactory()
    _old_history(consumer, add_message, n=2, days_ago=1)
    first = account_delete(user=consumer, confirm_email=consumer.email)
    ledger, events = ConsentChange.objects.count(), OutboxEvent.objects.count()
    second = account_delete(user=consumer, confirm_email=consumer.email)
    assert (first.conversations_deleted, second.conversations_deleted) == (2, 0)
    assert second.already_requested and not second.consent_withdrawn
    assert (ConsentChange.objects.count(), OutboxEvent.objects.count()) == (ledger, events)
    assert second.deleted_at == first.deleted_at


def test_an_account_with_nothing_left_is_erased_at_once(consumer):
    result = account_delete(user=consumer, confirm_email=consumer.email)
    user = User.objects.get(pk=consumer.pk)
    assert result.erased and user.erased_at is not None
    assert user.email.endswith("@erased.invalid") and user.external_id is None


def test_the_record_is_erased_by_the_purge_after_its_last_item_and_receipts_survive(
    consumer, add_message
):
    _old_history(consumer, add_message, n=2, days_ago=60)
    PolicyNoticeRead.objects.create(user=consumer, document_id=_document_id())
    email = consumer.email
    result = account_delete(user=consumer, confirm_email=email)
    assert not result.erased  # two deleted conversations still stored
    assert User.objects.get(pk=consumer.pk).email == email

    report = purge_due()

    assert report.conversations == 2 and report.accounts_erased == 1
    user = User.objects.get(pk=consumer.pk)
    assert user.erased_at is not None and user.email != email and user.external_id is None
    assert not PolicyNoticeRead.objects.filter(user_id=consumer.pk).exists()
    # Proof outlives the identity: the receipts and the consent ledger stay.
    receipts = DeletionReceipt.objects.filter(user_id=consumer.pk)
    assert receipts.count() == 2
    assert ConsentChange.objects.filter(user_id=consumer.pk).exists()
    assert not User.objects.filter(email=email).exists()


def test_what_the_article_keeps_keeps_the_record_too(consumer, add_message):
    _old_history(consumer, add_message, n=2, days_ago=60)
    flagged = Conversation.objects.filter(user=consumer).first()
    conversation_flag(conversation=flagged, flagged_at=timezone.now(), scores={"x": 0.9})
    feedback_submit(
        user=consumer,
        external_id="fb-1",
        kind="bug_report",
        comment="",
        excerpt="",
        submitted_at=timezone.now(),
    )
    result = account_delete(user=consumer, confirm_email=consumer.email)
    kept = result.kept
    assert (kept.flagged, kept.scores, kept.feedback, kept.deleted_awaiting) == (1, 1, 1, 1)
    assert kept.flagged_until > timezone.now() + timedelta(days=700)

    report = purge_due()
    assert report.conversations == 1 and report.accounts_erased == 0
    assert User.objects.get(pk=consumer.pk).erased_at is None


def test_a_legal_hold_on_the_account_keeps_the_record(consumer):
    legal_hold_place(user=consumer, reason="litigation", placed_by=StaffFactory())
    result = account_delete(user=consumer, confirm_email=consumer.email)
    assert not result.erased
    assert purge_due().accounts_erased == 0
    assert User.objects.get(pk=consumer.pk).erased_at is None


def _document_id() -> int:
    from retention.models import PolicyDocument

    return (
        PolicyDocument.objects.values_list("pk", flat=True).first()
        or PolicyDocument.objects.create(
            version="v-test", title="t", source_sha256="0" * 64, text="x", is_current=False
        ).pk
    )
