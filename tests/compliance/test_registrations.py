"""Numbers sold awaiting registration: checkout, approval (billing starts then) and the
deadline (cancelled, refunded to the cent), through the real services on PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models import Invoice, LedgerEntry, Subscription
from billing.selectors import balance_for, balance_mismatches
from billing.services.invoices import invoices_issue_daily
from billing.services.renewals import subscriptions_renew_due
from compliance.models import NumberRegistration, Submission, SubmissionEvent
from compliance.services.registrations import (
    number_registration_cancel,
    registrations_cancel_overdue,
    registrations_remind_due,
    submission_approve,
    submission_get_or_create,
    submission_reject,
    submission_submit,
)
from inventory.choices import DIDStatus
from inventory.models import DID
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import AddressFactory, DocumentFactory, IdentityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PARIS_1 = "+33155500000"
PARIS_2 = "+33155500001"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def buyer(customer_admin, paris):
    fund(customer_admin.account, "100.00")
    return customer_admin


def profile(account, *, city="Paris", country="FR"):
    identity = IdentityFactory(account=account)
    address = AddressFactory(account=account, city=city, country=country, postal_code="75001")
    documents = [
        DocumentFactory(account=account, kind="identity"),
        DocumentFactory(account=account, kind="address"),
    ]
    return {"identity": identity, "address": address, "documents": documents}


def submit(user, requirement, **parts):
    submission = submission_get_or_create(account=user.account, requirement=requirement, actor=user)
    return submission_submit(submission=submission, actor=user, **(parts or profile(user.account)))


def test_a_number_needing_registration_is_sold_awaiting_charged_and_not_invoiced(buyer):
    with time_machine.travel(START, tick=False):
        order = buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    assert (did.status, did.owner) == (DIDStatus.AWAITING_REGISTRATION, buyer.account)
    sub = order.items.get().subscription
    assert (sub.status, sub.next_renewal_at) == ("pending", None)
    # 2.00 setup + 4.00 month = 6.00 net; the buyer is German: 19 % VAT, 1.14.
    assert balance_for(buyer.account) == Decimal("92.86")
    assert order.invoice is None
    registration = NumberRegistration.objects.get(did=did)
    assert (registration.status, registration.order_id) == ("awaiting", order.pk)
    assert registration.deadline_at == START + timedelta(days=30)
    with time_machine.travel(START + timedelta(days=40), tick=False):
        assert invoices_issue_daily() == 0
        subscriptions_renew_due()
    assert sub.charges.count() == 1  # a pending rental never renews


def test_approval_activates_starts_the_period_then_and_invoices(buyer, compliance_officer):
    with time_machine.travel(START, tick=False):
        buy(buyer, PARIS_1, PARIS_2)
    approved_at = START + timedelta(days=6)
    with time_machine.travel(START + timedelta(days=5), tick=False):
        submission = submit(buyer, NumberRegistration.objects.first().requirement)
    assert submission.status == "submitted"
    with time_machine.travel(approved_at, tick=False):
        submission_approve(submission=submission, actor=compliance_officer)
    for number in (PARIS_1, PARIS_2):
        did = DID.objects.get(number=number)
        assert did.status == DIDStatus.ACTIVE
        sub = Subscription.objects.get(did=did)
        assert (sub.status, sub.current_period_start) == ("active", approved_at)
        assert sub.next_renewal_at == sub.current_period_end
        assert sub.current_period_end == datetime(2027, 1, 7, 9, tzinfo=UTC)
        assert sub.charges.get(side="sale").period_start == approved_at
    invoice = Invoice.objects.get(account=buyer.account)
    assert (invoice.source, invoice.gross) == ("registration", Decimal("14.28"))
    assert set(NumberRegistration.objects.values_list("status", flat=True)) == {"activated"}
    assert OutgoingEmail.objects.filter(key=f"registration-approved:{submission.pk}").exists()
    # Approving again changes nothing; the next number bought is live at once.
    submission_approve(submission=submission, actor=compliance_officer)
    assert Invoice.objects.filter(account=buyer.account).count() == 1
    order = buy(buyer, "+33155500002")
    assert DID.objects.get(number="+33155500002").status == DIDStatus.ACTIVE
    assert order.invoice is not None
    assert NumberRegistration.objects.get(did__number="+33155500002").status == "activated"
    assert list(balance_mismatches()) == []


def test_rejection_then_fix_then_approval_keeps_the_same_submission(buyer, compliance_officer):
    buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    parts = profile(buyer.account, city="Lyon")
    with pytest.raises(ValidationError) as refused:
        submit(buyer, requirement, **parts)
    assert "address" in refused.value.message_dict
    parts["address"] = AddressFactory(account=buyer.account, city="paris", country="FR")
    submission = submit(buyer, requirement, **parts)
    submission_reject(
        submission=submission,
        actor=compliance_officer,
        reasons=["unreadable", "expired"],
        comment="The passport scan is blurred.",
    )
    submission.refresh_from_db()
    assert (submission.status, submission.rejection_reasons) == (
        "rejected",
        ["unreadable", "expired"],
    )
    mail = OutgoingEmail.objects.get(key__startswith=f"registration-rejected:{submission.pk}")
    assert "Unreadable" in mail.text and "blurred" in mail.text
    again = submission_submit(submission=submission, actor=buyer, **parts)
    assert (again.pk, again.status) == (submission.pk, "submitted")
    submission_approve(submission=again, actor=compliance_officer)
    assert DID.objects.get(number=PARIS_1).status == DIDStatus.ACTIVE
    steps = list(
        SubmissionEvent.objects.filter(submission=submission).values_list("to_status", "actor_id")
    )
    assert steps == [
        ("submitted", buyer.pk),
        ("rejected", compliance_officer.pk),
        ("submitted", buyer.pk),
        ("approved", compliance_officer.pk),
    ]


def test_only_reviewers_decide_and_only_the_account_submits(buyer, stranger, reseller_admin):
    buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    with pytest.raises(PermissionDenied):
        submission_get_or_create(account=buyer.account, requirement=requirement, actor=stranger)
    submission = submit(buyer, requirement)
    for outsider in (buyer, stranger, reseller_admin):
        with pytest.raises(PermissionDenied):
            submission_approve(submission=submission, actor=outsider)
    assert Submission.objects.get().status == "submitted"


def test_the_deadline_cancels_and_refunds_to_the_cent(buyer):
    with time_machine.travel(START, tick=False):
        buy(buyer, PARIS_1)
    assert balance_for(buyer.account) == Decimal("92.86")
    with time_machine.travel(START + timedelta(days=27, hours=1), tick=False):
        assert registrations_remind_due() == 1
        assert registrations_remind_due() == 0
    with time_machine.travel(START + timedelta(days=29, hours=23), tick=False):
        assert registrations_cancel_overdue() == 0
    with time_machine.travel(START + timedelta(days=30), tick=False):
        assert registrations_cancel_overdue() == 1
        assert registrations_cancel_overdue() == 0
    assert balance_for(buyer.account) == Decimal("100.00")
    did = DID.objects.get(number=PARIS_1)
    assert (did.status, did.owner) == (DIDStatus.IN_STOCK, None)
    registration = NumberRegistration.objects.get()
    assert (registration.status, registration.refunded) == ("cancelled", Decimal("7.14"))
    assert Subscription.objects.get().status == "ended"
    refund = LedgerEntry.objects.get(account=buyer.account, kind="refund")
    assert refund.amount == Decimal("7.14")
    assert OutgoingEmail.objects.filter(key=f"registration-cancelled:{registration.pk}").exists()
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert invoices_issue_daily() == 0  # a refunded charge is never invoiced
    assert list(balance_mismatches()) == []


def test_a_resellers_customer_and_the_reseller_are_both_refunded(reseller_customer_buyer):
    buyer, reseller = reseller_customer_buyer
    reseller_before = balance_for(reseller)
    buy(buyer, PARIS_1)
    paid_by_reseller = reseller_before - balance_for(reseller)
    assert paid_by_reseller > 0
    registration = NumberRegistration.objects.get()
    number_registration_cancel(registration=registration, reason="gave up", actor=buyer)
    assert balance_for(reseller) == reseller_before
    assert balance_for(buyer.account) == Decimal("100.00")
    assert list(balance_mismatches()) == []


@pytest.fixture
def reseller_customer_buyer(reseller, paris):
    from tests.factories import AccountFactory, UserFactory

    customer = AccountFactory(kind="customer", parent=reseller, name="Resold SARL")
    user = UserFactory(account=customer, role="customer_admin")
    fund(customer, "100.00")
    fund(reseller, "100.00")
    return user, reseller


def test_a_registration_under_review_at_its_deadline_is_not_cancelled(buyer, compliance_officer):
    """The customer provided it in time: the review's wait is not held against them. A
    rejection after the deadline leaves REGISTRATION_FIX_DAYS (3) to fix it."""
    with time_machine.travel(START, tick=False):
        buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    with time_machine.travel(START + timedelta(days=29), tick=False):
        submission = submit(buyer, requirement)
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert registrations_cancel_overdue() == 0
        assert DID.objects.get(number=PARIS_1).status == DIDStatus.AWAITING_REGISTRATION
    rejected_at = START + timedelta(days=32)
    with time_machine.travel(rejected_at, tick=False):
        submission_reject(submission=submission, actor=compliance_officer, reasons=["expired"])
    registration = NumberRegistration.objects.get()
    assert registration.deadline_at == rejected_at + timedelta(days=3)
    with time_machine.travel(rejected_at + timedelta(days=2, hours=23), tick=False):
        assert registrations_cancel_overdue() == 0
    with time_machine.travel(rejected_at + timedelta(days=3), tick=False):
        assert registrations_cancel_overdue() == 1
    assert balance_for(buyer.account) == Decimal("100.00")


def test_a_rejection_leaves_a_far_deadline_where_it_is(buyer, compliance_officer):
    with time_machine.travel(START, tick=False):
        buy(buyer, PARIS_1)
        submission = submit(buyer, NumberRegistration.objects.get().requirement)
        submission_reject(submission=submission, actor=compliance_officer, reasons=["expired"])
    assert NumberRegistration.objects.get().deadline_at == START + timedelta(days=30)
