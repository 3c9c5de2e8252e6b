"""Registrations over time, through the services and the Celery task (pages come later):
buy → awaiting → submit → reject → fix → approve → active, invoiced, renewing a period later;
buy → reminder once, three days before → deadline → cancelled and refunded to the cent
(a direct customer paying VAT; a reseller's customer, whose reseller is refunded its
wholesale charge too). Real PostgreSQL; time moved with time-machine."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied

from billing.models import Invoice, InvoiceLine, LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_for, balance_mismatches
from billing.services.invoices import invoices_issue_daily
from billing.services.renewals import subscriptions_renew_due
from compliance.models import NumberRegistration, Requirement
from compliance.services.registrations import (
    number_registration_cancel,
    submission_approve,
    submission_get_or_create,
    submission_reject,
    submission_submit,
)
from compliance.tasks import registration_deadlines
from didportal.celery import app
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import dids_add
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import AddressFactory, DocumentFactory, IdentityFactory
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PARIS_1 = "+33155500000"
PARIS_2 = "+33155500001"
BOUGHT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEADLINE = BOUGHT + timedelta(days=30)  # the Paris requirement gives 30 days


def at(moment):
    return time_machine.travel(moment, tick=False)


def published():
    """Drain the in-memory broker: ``[(task name, args), …]`` published since last time."""
    tasks = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while queue.qsize():
            message = queue.get(timeout=1)
            tasks.append((message.headers["task"], message.payload[0]))
            message.ack()
    return tasks


def run_deadlines_as_beat_does():
    """Publish the beat entry's task to the broker, then run what arrived as a worker does:
    the schedule's name must be a registered task that needs no arguments."""
    entry = app.conf.beat_schedule["registration-deadlines"]
    published()  # whatever earlier work left in the broker
    app.send_task(entry["task"], args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
    results = []
    for name, args in published():
        assert name == "compliance.tasks.registration_deadlines"
        results.append(app.tasks[name].apply(args=args).get())
    assert len(results) == 1
    return results[0]


def mails(prefix):
    return list(OutgoingEmail.objects.filter(key__startswith=prefix).order_by("pk"))


def paris_profile(account):
    return {
        "identity": IdentityFactory(account=account),
        "address": AddressFactory(account=account, city="Paris", country="FR", postal_code="75001"),
        "documents": [
            DocumentFactory(account=account, kind="identity"),
            DocumentFactory(account=account, kind="address"),
        ],
    }


@pytest.fixture
def buyer(customer_admin, paris):
    """A German customer (19 % VAT) with 100.00."""
    fund(customer_admin.account, "100.00")
    return customer_admin


@pytest.fixture
def resold(reseller, paris):
    """A French customer of a reseller that marks the platform's prices up by 50 %; both
    hold 100.00."""
    customer = AccountFactory(kind="customer", parent=reseller, name="Revendu SARL", country="FR")
    user = UserFactory(account=customer, role="customer_admin")
    MarkupRuleFactory(
        reseller=reseller, setup_percent=Decimal("50"), recurring_percent=Decimal("50")
    )
    fund(customer, "100.00")
    fund(reseller, "100.00")
    return user


# --- The whole way to a live, billed and renewing number ---------------------------------------


def test_buy_submit_reject_fix_approve_then_billed_from_approval_and_renewed(
    buyer, compliance_officer
):
    account = buyer.account
    with at(BOUGHT):
        order = buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    sub = order.items.get().subscription
    assert (did.status, sub.status, order.invoice) == ("awaiting_registration", "pending", None)
    # 2.00 setup + 4.00 month = 6.00 net, 1.14 VAT (19 %): 7.14 charged now, not invoiced.
    assert balance_for(account) == Decimal("92.86")

    requirement = NumberRegistration.objects.get(did=did).requirement
    parts = paris_profile(account)
    with at(BOUGHT + timedelta(days=2)):
        submission = submission_get_or_create(account=account, requirement=requirement, actor=buyer)
        submission_submit(submission=submission, actor=buyer, **parts)
        assert invoices_issue_daily() == 0  # nothing invoiced while it waits
    with at(BOUGHT + timedelta(days=3)):
        submission_reject(
            submission=submission,
            actor=compliance_officer,
            reasons=["address_outside_area"],
            comment="This address is in Lyon.",
        )
    assert DID.objects.get(pk=did.pk).status == DIDStatus.AWAITING_REGISTRATION
    assert len(mails(f"registration-rejected:{submission.pk}")) == 1

    with at(BOUGHT + timedelta(days=4)):
        parts["address"] = AddressFactory(account=account, city="Paris", country="FR")
        submission.refresh_from_db()
        again = submission_submit(submission=submission, actor=buyer, **parts)
    assert (again.pk, again.status) == (submission.pk, "submitted")
    approved_at = BOUGHT + timedelta(days=5, hours=2)
    with at(approved_at):
        submission_approve(submission=again, actor=compliance_officer)

    did.refresh_from_db()
    sub.refresh_from_db()
    assert (did.status, did.owner_id) == (DIDStatus.ACTIVE, account.pk)
    assert (sub.status, sub.current_period_start) == ("active", approved_at)
    # The first period starts at approval: a month from then, not from the purchase.
    assert sub.current_period_end == sub.next_renewal_at == datetime(2027, 1, 6, 11, tzinfo=UTC)
    first = sub.charges.get(period_index=0, side="sale")
    assert (first.period_start, first.period_end) == (approved_at, sub.current_period_end)
    invoice = Invoice.objects.get(account=account)
    assert (invoice.source, invoice.net, invoice.vat, invoice.gross) == (
        "registration",
        Decimal("6.00"),
        Decimal("1.14"),
        Decimal("7.14"),
    )
    assert InvoiceLine.objects.filter(invoice=invoice, subscription_charge=first).count() == 2
    assert balance_for(account) == Decimal("92.86")  # approval charges nothing more
    assert NumberRegistration.objects.get(did=did).status == "activated"

    with at(approved_at + timedelta(days=1)):
        assert invoices_issue_daily() == 0  # the approval's invoice billed the first period
    with at(DEADLINE - timedelta(days=2)):
        assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 0}
    assert mails("registration-reminder:") == []

    # One period after approval it renews at the price: 4.00 + 0.76 VAT.
    with at(sub.next_renewal_at - timedelta(minutes=1)):
        assert subscriptions_renew_due()["renewed"] == 0
    with at(sub.next_renewal_at):
        assert subscriptions_renew_due()["renewed"] == 1
    renewal = sub.charges.get(period_index=1, side="sale")
    assert (renewal.net, renewal.vat, renewal.amount) == (
        Decimal("4.00"),
        Decimal("0.76"),
        Decimal("4.76"),
    )
    assert renewal.period_start == datetime(2027, 1, 6, 11, tzinfo=UTC)
    assert balance_for(account) == Decimal("88.10")
    with at(datetime(2027, 1, 7, 1, tzinfo=UTC)):
        assert invoices_issue_daily() == 1
    daily = Invoice.objects.get(account=account, source="daily")
    assert daily.gross == Decimal("4.76")
    assert list(balance_mismatches()) == []


# --- The deadline: one reminder, then cancelled and refunded ------------------------------------


def test_one_reminder_three_days_before_then_cancelled_and_refunded_to_the_cent(buyer):
    account = buyer.account
    with at(BOUGHT):
        order = buy(buyer, PARIS_1, PARIS_2)
    assert balance_for(account) == Decimal("85.72")  # 2 × 7.14
    assert settings.REGISTRATION_REMINDER_DAYS == 3

    with at(DEADLINE - timedelta(days=3, minutes=1)):
        assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 0}
    with at(DEADLINE - timedelta(days=3)):
        assert run_deadlines_as_beat_does() == {"reminded": 2, "cancelled": 0}
    for hours in (1, 24, 71):
        with at(DEADLINE - timedelta(days=3) + timedelta(hours=hours)):
            assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 0}
    (reminder,) = mails("registration-reminder:")  # one e-mail for the order's two numbers
    assert reminder.subject.endswith("Registration due in 3 days: 2 numbers")
    text = reminder.text
    assert PARIS_1 in text and PARIS_2 in text
    assert "Deadline: 2026-12-31 09:00 UTC, in 3 days" in text
    assert f"14.28 {account.currency}" in text  # what comes back if they lapse
    assert "You have not sent this registration yet" in text
    assert "/compliance/registrations/" in text
    assert reminder.to == [buyer.email]

    with at(DEADLINE - timedelta(seconds=1)):
        assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 0}
    with at(DEADLINE):
        assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 2}
        assert run_deadlines_as_beat_does() == {"reminded": 0, "cancelled": 0}

    assert balance_for(account) == Decimal("100.00")
    for number in (PARIS_1, PARIS_2):
        did = DID.objects.get(number=number)
        assert (did.status, did.owner_id) == (DIDStatus.IN_STOCK, None)
        registration = NumberRegistration.objects.get(did=did)
        assert (registration.status, registration.refunded) == ("cancelled", Decimal("7.14"))
        assert registration.cancelled_at == DEADLINE
    refunds = LedgerEntry.objects.filter(account=account, kind="refund")
    assert sorted(refunds.values_list("amount", flat=True)) == [Decimal("7.14")] * 2
    assert set(Subscription.objects.values_list("status", flat=True)) == {"ended"}
    assert not SubscriptionCharge.objects.filter(refund_entry__isnull=True).exists()
    cancelled = mails("registration-cancelled:")
    assert len(cancelled) == 2
    assert f"7.14 {account.currency}" in cancelled[0].text and "deadline" in cancelled[0].text
    with at(DEADLINE + timedelta(days=2)):
        assert invoices_issue_daily() == 0  # a refunded charge is never invoiced
    assert not Invoice.objects.exists()
    order.refresh_from_db()
    assert order.invoice is None
    assert list(balance_mismatches()) == []


def test_a_resellers_customer_and_its_reseller_are_both_refunded_at_the_deadline(resold):
    customer = resold.account
    reseller = customer.parent
    with at(BOUGHT):
        buy(resold, PARIS_1)
    sub = Subscription.objects.get()
    sale = sub.charges.get(side="sale")
    wholesale = sub.charges.get(side="wholesale")
    # The customer pays the reseller's price, 50 % above the platform's (9.00 net), with
    # French VAT (20 %): 10.80; the reseller pays the platform's 6.00 + 19 % German VAT.
    assert (sale.account_id, sale.net, sale.amount) == (
        customer.pk,
        Decimal("9.00"),
        Decimal("10.80"),
    )
    assert (wholesale.account_id, wholesale.amount) == (reseller.pk, Decimal("7.14"))
    assert balance_for(customer) == Decimal("89.20")
    assert balance_for(reseller) == Decimal("92.86")
    with at(DEADLINE + timedelta(days=1)):
        assert invoices_issue_daily() == 0  # neither side is invoiced while it waits
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 1}

    assert balance_for(customer) == Decimal("100.00")
    assert balance_for(reseller) == Decimal("100.00")
    registration = NumberRegistration.objects.get()
    assert (registration.status, registration.refunded) == ("cancelled", Decimal("10.80"))
    refunds = dict(LedgerEntry.objects.filter(kind="refund").values_list("account_id", "amount"))
    assert refunds == {customer.pk: Decimal("10.80"), reseller.pk: Decimal("7.14")}
    with at(DEADLINE + timedelta(days=2)):
        assert invoices_issue_daily() == 0
    assert not Invoice.objects.exists()
    # The customer hears it under the reseller's brand; nothing is sent to the reseller.
    (mail,) = mails("registration-cancelled:")
    assert mail.to == [resold.email]
    assert f"10.80 {customer.currency}" in mail.text
    assert list(balance_mismatches()) == []


def test_a_resellers_customer_approved_is_invoiced_by_the_reseller_and_the_reseller_daily(
    resold, compliance_officer
):
    customer = resold.account
    reseller = customer.parent
    with at(BOUGHT):
        buy(resold, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    with at(BOUGHT + timedelta(days=1)):
        submission = submission_get_or_create(
            account=customer, requirement=requirement, actor=resold
        )
        submission_submit(submission=submission, actor=resold, **paris_profile(customer))
    with at(BOUGHT + timedelta(days=2)):
        submission_approve(submission=submission, actor=compliance_officer)
    invoice = Invoice.objects.get(account=customer)
    assert (invoice.issuer_id, invoice.source, invoice.gross) == (
        reseller.pk,
        "registration",
        Decimal("10.80"),
    )
    with at(BOUGHT + timedelta(days=3)):
        assert invoices_issue_daily() == 1  # the reseller's wholesale charge, once started
    wholesale = Invoice.objects.get(account=reseller)
    assert wholesale.gross == Decimal("7.14")
    with at(DEADLINE + timedelta(hours=1)):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 0}
    assert balance_for(customer) == Decimal("89.20")
    assert balance_for(reseller) == Decimal("92.86")
    assert list(balance_mismatches()) == []


# --- What the deadline does not touch ---------------------------------------------------------


def test_changing_the_requirements_deadline_later_moves_no_existing_deadline(buyer, paris):
    with at(BOUGHT):
        buy(buyer, PARIS_1)
    requirement = Requirement.objects.get(pk=paris.requirement_id)
    requirement.deadline_days = 5  # shortened after the sale
    requirement.save()
    with at(BOUGHT + timedelta(days=6)):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 0}
        buy(buyer, PARIS_2)  # a later sale gets the new deadline
    first = NumberRegistration.objects.get(did__number=PARIS_1)
    second = NumberRegistration.objects.get(did__number=PARIS_2)
    assert first.deadline_at == DEADLINE
    assert second.deadline_at == BOUGHT + timedelta(days=11)

    requirement.deadline_days = 90  # lengthened: the first sale's deadline stays too
    requirement.save()
    with at(BOUGHT + timedelta(days=11)):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 1}
    assert NumberRegistration.objects.get(pk=second.pk).status == "cancelled"
    assert NumberRegistration.objects.get(pk=first.pk).status == "awaiting"
    with at(DEADLINE):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 1}
    assert NumberRegistration.objects.get(pk=first.pk).status == "cancelled"
    assert balance_for(buyer.account) == Decimal("100.00")


def test_a_submission_awaiting_review_is_named_in_the_reminder(buyer):
    with at(BOUGHT):
        buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    with at(BOUGHT + timedelta(days=26)):
        submission = submission_get_or_create(
            account=buyer.account, requirement=requirement, actor=buyer
        )
        submission_submit(submission=submission, actor=buyer, **paris_profile(buyer.account))
    with at(DEADLINE - timedelta(days=2)):
        assert registration_deadlines.apply().get() == {"reminded": 1, "cancelled": 0}
    (mail,) = mails("registration-reminder:")
    assert "awaiting review" in mail.text
    assert f"/compliance/registrations/{submission.pk}/" in mail.text


# --- The customer gives up; who may ---------------------------------------------------------


def test_the_customer_cancels_a_waiting_number_and_is_refunded_at_once(
    buyer, customer_member, stranger, reseller_admin
):
    account = buyer.account
    with at(BOUGHT):
        buy(buyer, PARIS_1)
    registration = NumberRegistration.objects.get()
    for outsider in (stranger, reseller_admin):
        with pytest.raises(PermissionDenied):
            number_registration_cancel(registration=registration, reason="no", actor=outsider)
    assert NumberRegistration.objects.get().status == "awaiting"
    assert balance_for(account) == Decimal("92.86")

    with at(BOUGHT + timedelta(days=3)):
        number_registration_cancel(
            registration=registration, reason="cancelled at your request", actor=customer_member
        )
    registration.refresh_from_db()
    assert (registration.status, registration.refunded) == ("cancelled", Decimal("7.14"))
    assert balance_for(account) == Decimal("100.00")
    refund = LedgerEntry.objects.get(account=account, kind="refund")
    assert refund.created_by_id == customer_member.pk
    (mail,) = mails("registration-cancelled:")
    assert "cancelled at your request" in mail.text
    assert sorted(mail.to) == sorted([buyer.email, customer_member.email])
    with at(DEADLINE):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 0}
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    assert list(balance_mismatches()) == []


def test_a_number_sold_while_the_submission_opened_joins_it_on_submit(buyer, compliance_officer):
    buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    submission = submission_get_or_create(
        account=buyer.account, requirement=requirement, actor=buyer
    )
    assert NumberRegistration.objects.get().submission_id == submission.pk
    # A checkout committing just after the opening recorded its number without it.
    buy(buyer, PARIS_2)
    NumberRegistration.objects.update(submission=None)
    submission_submit(submission=submission, actor=buyer, **paris_profile(buyer.account))
    assert set(NumberRegistration.objects.values_list("submission_id", flat=True)) == {
        submission.pk
    }
    submission_approve(submission=submission, actor=compliance_officer)
    assert set(NumberRegistration.objects.values_list("status", flat=True)) == {"activated"}


def test_one_reminder_per_account_listing_each_numbers_own_deadline(buyer, stranger):
    fund(stranger.account, "100.00")
    with at(BOUGHT):
        buy(buyer, PARIS_1)
        buy(stranger, "+33155500002")
    with at(BOUGHT + timedelta(days=1)):
        buy(buyer, PARIS_2)
    with at(DEADLINE - timedelta(days=2)):
        assert registration_deadlines.apply().get() == {"reminded": 3, "cancelled": 0}
    by_recipient = {tuple(m.to): m for m in mails("registration-reminder:")}
    assert set(by_recipient) == {(buyer.email,), (stranger.email,)}
    ours, theirs = by_recipient[(buyer.email,)], by_recipient[(stranger.email,)]
    assert f"{PARIS_1}: by 2026-12-31 09:00 UTC" in ours.text
    assert f"{PARIS_2}: by 2027-01-01 09:00 UTC" in ours.text
    assert "The first deadline is in 2 days" in ours.text
    assert "+33155500002" not in ours.text
    assert "+33155500002" in theirs.text and PARIS_1 not in theirs.text


def test_a_cancel_before_the_approval_leaves_the_approval_nothing_to_activate(
    buyer, compliance_officer
):
    """The deadline ran first (the race's other order, made deterministic): the review
    still stands, but no number comes back to life and nothing is invoiced."""
    with at(BOUGHT):
        buy(buyer, PARIS_1)
    requirement = NumberRegistration.objects.get().requirement
    with at(BOUGHT + timedelta(days=29)):
        submission = submission_get_or_create(
            account=buyer.account, requirement=requirement, actor=buyer
        )
        submission_submit(submission=submission, actor=buyer, **paris_profile(buyer.account))
    with at(DEADLINE + timedelta(minutes=40)):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 1}
        submission_approve(submission=submission, actor=compliance_officer)
    did = DID.objects.get(number=PARIS_1)
    assert (did.status, did.owner_id) == (DIDStatus.IN_STOCK, None)
    assert NumberRegistration.objects.get().status == "cancelled"
    assert Subscription.objects.get().status == "ended"
    assert not Invoice.objects.exists()
    assert balance_for(buyer.account) == Decimal("100.00")
    (approved,) = mails(f"registration-approved:{submission.pk}")
    assert PARIS_1 not in approved.text
    # Numbers bought from now on go live at once.
    buy(buyer, PARIS_2)
    assert DID.objects.get(number=PARIS_2).status == DIDStatus.ACTIVE
    assert list(balance_mismatches()) == []


@pytest.mark.parametrize(
    ("setup", "monthly"), [("0.99", "3.33"), ("0.00", "0.07"), ("12.345", "9.995")]
)
def test_awkward_prices_come_back_to_the_cent(buyer, paris, platform_admin, setup, monthly):
    block = NumberBlockFactory(
        operator=paris.operator,
        country="FR",
        city="Paris",
        area_code="1",
        setup_fee=Decimal(setup),
        monthly_price=Decimal(monthly),
        requirement=paris.requirement,
    )
    dids_add(block=block, spec_text="+33155510000-+33155510002", actor=platform_admin)
    with at(BOUGHT):
        buy(buyer, "+33155510000", "+33155510001", PARIS_1)
    paid = Decimal("100.00") - balance_for(buyer.account)
    charged = -sum(
        LedgerEntry.objects.filter(account=buyer.account, kind="charge").values_list(
            "amount", flat=True
        )
    )
    assert paid == charged > 0
    with at(DEADLINE):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 3}
    assert balance_for(buyer.account) == Decimal("100.00")
    refunded = sum(NumberRegistration.objects.values_list("refunded", flat=True))
    assert refunded == paid
    assert list(balance_mismatches()) == []
