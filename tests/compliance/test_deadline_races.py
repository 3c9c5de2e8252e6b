"""Registrations raced on real PostgreSQL locks, in threads with their own connections:
approval against the deadline's cancel, two cancels, a checkout against an approval, two
approvals, two reminder runs. Each race has one winner, and the ledger matches the balances."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, LedgerEntry, Subscription, SubscriptionEvent
from billing.selectors import balance_for, balance_mismatches
from cart import services as cart_services
from cart.orders import order_place
from compliance.models import NumberRegistration, Requirement, SubmissionEvent
from compliance.services.registrations import (
    number_registration_cancel,
    registrations_cancel_overdue,
    registrations_remind_due,
    submission_approve,
    submission_get_or_create,
    submission_submit,
)
from inventory.choices import DIDStatus
from inventory.models import DID
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import AddressFactory, DocumentFactory, IdentityFactory
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PRICE = Decimal("7.14")  # 2.00 setup + 4.00 month + 19 % VAT, for a German customer


def awaiting_customer(number, *, submitted=True):
    """A new German customer with 100.00 that bought ``number`` awaiting registration and,
    when ``submitted``, sent a complete submission for it. Returns (user, registration)."""
    account = AccountFactory(kind="customer", name=f"Buyer of {number}")
    user = UserFactory(account=account, role="customer_admin")
    fund(account, "100.00")
    buy(user, number)
    registration = NumberRegistration.objects.get(did__number=number, status="awaiting")
    if submitted:
        submission = submission_get_or_create(
            account=account, requirement=registration.requirement, actor=user
        )
        submission_submit(
            submission=submission,
            actor=user,
            identity=IdentityFactory(account=account),
            address=AddressFactory(account=account, city="Paris", country="FR"),
            documents=[
                DocumentFactory(account=account, kind="identity"),
                DocumentFactory(account=account, kind="address"),
            ],
        )
        registration.refresh_from_db()
    return user, registration


def overdue(registration):
    NumberRegistration.objects.filter(pk=registration.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )


def no_errors(results):
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors


def assert_live_and_billed(account, number):
    did = DID.objects.get(number=number)
    assert (did.status, did.owner_id) == (DIDStatus.ACTIVE, account.pk)
    sub = Subscription.objects.get(did=did, account=account)
    assert sub.status == "active" and sub.next_renewal_at is not None
    charge = sub.charges.get(period_index=0, side="sale")
    assert charge.refund_entry_id is None
    # Its first period is on exactly one invoice (setup line and period line).
    lines = InvoiceLine.objects.filter(subscription_charge=charge)
    assert lines.count() == 2 and len({line.invoice_id for line in lines}) == 1
    assert NumberRegistration.objects.get(did=did, account=account).status == "activated"


def test_approval_racing_the_deadline_cancel_has_one_winner(compliance_officer, paris):
    numbers = ["+33155500000", "+33155500001", "+33155500002", "+33155500003"]
    outcomes = []
    for number in numbers:
        user, registration = awaiting_customer(number)
        account = user.account
        submission = registration.submission
        overdue(registration)

        def race(i, submission=submission):
            if i == 0:
                return submission_approve(submission=submission, actor=compliance_officer)
            return registrations_cancel_overdue(job="race")

        results = run_in_threads(race, count=2)
        no_errors(results)
        registration.refresh_from_db()
        submission.refresh_from_db()
        assert submission.status == "approved"  # the review itself always stands
        refunds = LedgerEntry.objects.filter(account=account, kind="refund")
        if registration.status == "activated":  # the approval won
            assert results[1] == 0
            assert_live_and_billed(account, number)
            assert not refunds.exists()
            assert balance_for(account) == Decimal("100.00") - PRICE
            assert Invoice.objects.get(account=account).gross == PRICE
        else:  # the cancel won: the approval found nothing left to activate
            assert (registration.status, registration.refunded) == ("cancelled", PRICE)
            assert results[1] == 1
            did = DID.objects.get(number=number)
            assert (did.status, did.owner_id) == (DIDStatus.IN_STOCK, None)
            assert Subscription.objects.get(did=did, account=account).status == "ended"
            assert [r.amount for r in refunds] == [PRICE]
            assert balance_for(account) == Decimal("100.00")
            assert not Invoice.objects.filter(account=account).exists()
        outcomes.append(registration.status)
    assert set(outcomes) <= {"activated", "cancelled"}
    assert list(balance_mismatches()) == []


def test_two_cancels_and_two_deadline_runs_refund_once(paris):
    user, registration = awaiting_customer("+33155500000", submitted=False)
    account = user.account
    overdue(registration)

    def cancel(i):
        if i % 2:
            return registrations_cancel_overdue(job=f"run-{i}")
        result = number_registration_cancel(registration=registration, reason="gave up", actor=user)
        return result.status

    results = run_in_threads(cancel, count=4)
    no_errors(results)
    assert results[0] == results[2] == "cancelled"
    assert results[1] + results[3] <= 1
    registration.refresh_from_db()
    assert (registration.status, registration.refunded) == ("cancelled", PRICE)
    refunds = LedgerEntry.objects.filter(account=account, kind="refund")
    assert [r.amount for r in refunds] == [PRICE]
    assert balance_for(account) == Decimal("100.00")
    did = DID.objects.get(pk=registration.did_id)
    assert (did.status, did.owner_id) == (DIDStatus.IN_STOCK, None)
    sub = Subscription.objects.get(did=did)
    assert sub.status == "ended"
    assert SubscriptionEvent.objects.filter(subscription=sub, to_status="ended").count() == 1
    assert OutgoingEmail.objects.filter(key__startswith="registration-cancelled:").count() == 1
    assert list(balance_mismatches()) == []


def test_a_checkout_racing_an_approval_bills_each_number_once(compliance_officer, paris):
    user, registration = awaiting_customer("+33155500000")
    account = user.account
    submission = registration.submission
    cart_services.cart_add_numbers(user=user, numbers=["+33155500001"])
    agreed = {r.pk: r.version for r in Requirement.objects.filter(active=True)}
    token = uuid.uuid4().hex

    def race(i):
        if i == 0:
            return order_place(user=user, token=token, agreed=agreed, ip_address="203.0.113.7")
        return submission_approve(submission=submission, actor=compliance_officer)

    results = run_in_threads(race, count=2)
    no_errors(results)
    for number in ("+33155500000", "+33155500001"):
        assert_live_and_billed(account, number)
    invoiced = sum(i.gross for i in Invoice.objects.filter(account=account))
    assert invoiced == 2 * PRICE
    assert balance_for(account) == Decimal("100.00") - 2 * PRICE
    assert not LedgerEntry.objects.filter(account=account, kind="refund").exists()
    assert list(balance_mismatches()) == []


def test_two_approvals_activate_and_invoice_once(compliance_officer, paris):
    user, registration = awaiting_customer("+33155500000")
    account = user.account
    submission = registration.submission
    second_officer = UserFactory(account=compliance_officer.account, role="platform_compliance")
    officers = [compliance_officer, second_officer] * 2

    results = run_in_threads(
        lambda i: submission_approve(submission=submission, actor=officers[i]), count=4
    )
    no_errors(results)
    assert_live_and_billed(account, "+33155500000")
    assert Invoice.objects.filter(account=account).count() == 1
    events = SubmissionEvent.objects.filter(submission=submission, to_status="approved")
    assert events.count() == 1
    sub = Subscription.objects.get(did=registration.did)
    assert SubscriptionEvent.objects.filter(subscription=sub, to_status="active").count() == 1
    approved = OutgoingEmail.objects.filter(key=f"registration-approved:{submission.pk}")
    assert approved.count() == 1
    assert balance_for(account) == Decimal("100.00") - PRICE
    assert list(balance_mismatches()) == []


def test_two_reminder_runs_send_one_reminder(paris):
    user, registration = awaiting_customer("+33155500000", submitted=False)
    NumberRegistration.objects.filter(pk=registration.pk).update(
        deadline_at=timezone.now() + timedelta(days=2)
    )

    results = run_in_threads(lambda i: registrations_remind_due(job=f"run-{i}"), count=3)

    no_errors(results)
    assert sum(results) == 1
    assert OutgoingEmail.objects.filter(key__startswith="registration-reminder:").count() == 1
    registration.refresh_from_db()
    assert registration.reminded_at is not None


def test_a_reminder_run_racing_an_approval_neither_deadlocks_nor_splits(compliance_officer, paris):
    user, registration = awaiting_customer("+33155500000")
    account = user.account
    buy(user, "+33155500001")
    first, second = NumberRegistration.objects.filter(account=account).order_by("pk")
    # Deadlines in the opposite order of the rows' keys: both sides must still lock by key.
    now = timezone.now()
    NumberRegistration.objects.filter(pk=first.pk).update(deadline_at=now + timedelta(days=2))
    NumberRegistration.objects.filter(pk=second.pk).update(deadline_at=now + timedelta(days=1))
    submission = registration.submission

    def race(i):
        if i == 0:
            return submission_approve(submission=submission, actor=compliance_officer)
        return registrations_remind_due(job="race")

    results = run_in_threads(race, count=2)

    no_errors(results)
    assert results[1] in (0, 2)  # both numbers in one reminder, or none (already approved)
    for number in ("+33155500000", "+33155500001"):
        assert_live_and_billed(account, number)
    reminders = OutgoingEmail.objects.filter(key__startswith="registration-reminder:")
    assert reminders.count() == (1 if results[1] else 0)
