"""Billing's e-mails go through the outbox: queued with the change, sent when possible."""

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction

from billing.models import Subscription
from billing.notifications import low_balance_email_send, renewal_failed_email_send
from billing.services.renewals import (
    subscriptions_renew_due,
)
from outbox.models import OutgoingEmail
from outbox.services import outbox_flush
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _buyer_outside_the_eu(customer):
    customer.country = "US"
    customer.save(update_fields=["country"])


@pytest.fixture
def smtp_down(monkeypatch):
    def refuse(self, messages):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


def test_the_low_balance_email_is_queued_with_the_transaction_it_reports(
    customer, customer_admin, customer_member, mailoutbox
):
    with pytest.raises(RuntimeError), transaction.atomic():
        low_balance_email_send(account_id=customer.pk, balance="4.00", threshold="10.00")
        raise RuntimeError("the charge failed")
    assert not OutgoingEmail.objects.exists()

    with transaction.atomic():
        low_balance_email_send(account_id=customer.pk, balance="4.00", threshold="10.00")
    email = OutgoingEmail.objects.get()
    assert email.to == [customer_admin.email]  # admins only, not the member
    assert "4.00 USD" in email.subject and "10.00 USD" in email.text
    outbox_flush()
    assert [m.to for m in mailoutbox] == [[customer_admin.email]]


def test_no_email_for_an_account_without_admins(customer, customer_member):
    low_balance_email_send(account_id=customer.pk, balance="4.00", threshold="10.00")
    assert not OutgoingEmail.objects.exists()


def test_a_failed_renewal_is_mailed_once_however_often_it_is_reported(
    customer, customer_admin, mailoutbox, django_capture_on_commit_callbacks
):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions_renew_due(now=sub.next_renewal_at)
    renewal_failed_email_send(subscription_id=sub.pk)  # a repeat (a retried job)
    assert OutgoingEmail.objects.filter(key__startswith=f"renewal-failed:{sub.pk}:").count() == 1
    outbox_flush()
    assert len([m for m in mailoutbox if "on hold" in m.subject]) == 1


def test_a_mail_server_down_does_not_undo_the_hold_and_the_email_waits(
    customer, customer_admin, mailoutbox, smtp_down, django_capture_on_commit_callbacks
):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions_renew_due(now=sub.next_renewal_at)
    outbox_flush()
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.HOLD
    email = OutgoingEmail.objects.get(key__startswith=f"renewal-failed:{sub.pk}:")
    assert (email.status, email.attempts) == ("queued", 1)
    assert "mail server down" in email.last_error
    assert mailoutbox == []


def test_reseller_admins_get_their_low_balance_email(reseller):
    admin = UserFactory(account=reseller, role="reseller_admin")
    low_balance_email_send(account_id=reseller.pk, balance="1.00", threshold="10.00")
    assert OutgoingEmail.objects.get().to == [admin.email]
