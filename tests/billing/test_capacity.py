"""Extra capacity: pro-rata purchase aligned with the number, reductions at the period end,
cancelling a number with its capacity, renewals and invoices of both together."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing.models import InvoiceLine, LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_for, balance_mismatches
from billing.services import InsufficientBalance
from billing.services.capacity import (
    capacity_add,
    capacity_quote,
    capacity_reduce,
    capacity_reduce_plan,
    number_channels,
    number_rental_cancel,
    prorata,
)
from billing.services.invoices import invoices_issue_daily
from billing.services.renewals import (
    subscriptions_renew_due,
)
from billing.services.subscriptions import (
    subscription_cancel,
    subscriptions_end_due,
)
from billing.tasks import end_subscriptions, renew_subscriptions
from inventory.choices import DIDStatus
from inventory.services import did_transition
from tests.billing.factories import fund, spend
from tests.billing.test_subscriptions_helpers import held_did, walk_renewals
from tests.billing.test_subscriptions_helpers import start as start_rental
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

S = Subscription.Status
APRIL = datetime(2026, 4, 1, tzinfo=UTC)  # April has 30 days: a 30-day monthly period
PRICE = Decimal("1.50")


def key():
    return f"capacity:{uuid.uuid4().hex}"


def start(account, *, did=None, channel_price=PRICE, **kw):
    """A rental of a number whose block prices an extra channel at ``channel_price`` a
    month (the price ``capacity_add`` asks ``catalog.pricing`` for)."""
    block = NumberBlockFactory(extra_channel_monthly_price=Decimal(channel_price))
    return start_rental(account, did=did or held_did(account, block=block), **kw)


def add(number, extra=2, *, actor, **kw):
    return capacity_add(
        number_subscription=number,
        extra_channels=extra,
        actor=actor,
        idempotency_key=kw.pop("idempotency_key", None) or key(),
        **kw,
    )


@pytest.fixture
def us_customer(customer):
    """A buyer outside the EU: no VAT, so each charge is exactly the price."""
    customer.country = "US"
    customer.save(update_fields=["country"])
    return customer


# --- Pro rata -------------------------------------------------------------------------------


def test_prorata_is_exact_and_rounded_half_up():
    start_, end = APRIL, APRIL + timedelta(days=30)
    assert prorata(Decimal("3.00"), now=start_ + timedelta(days=20), **_period(start_, end)) == (
        Decimal("1.00")
    )
    # 1.00 × 1/8 = 0.125 → 0.13 (half-up, not banker's 0.12)
    eighth = start_ + (end - start_) * 7 / 8
    assert prorata(Decimal("1.00"), now=eighth, **_period(start_, end)) == Decimal("0.13")
    assert prorata(Decimal("3.00"), now=start_, **_period(start_, end)) == Decimal("3.00")
    assert prorata(Decimal("3.00"), now=end, **_period(start_, end)) == Decimal("0.00")


def _period(start_, end):
    return {"period_start": start_, "period_end": end}


def test_ten_days_left_of_thirty_two_channels_at_1_50_cost_1_00_plus_vat(customer, customer_admin):
    """The brief's example: a German buyer pays 1.00 net + 19 % VAT = 1.19."""
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "50.00")
        number = start(customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=20))
        before = balance_for(customer)

        capacity = add(number, 2, actor=customer_admin)

    (charge,) = capacity.charges.all()
    assert (charge.net, charge.vat_rate, charge.vat, charge.amount) == (
        Decimal("1.00"),
        Decimal("19.00"),
        Decimal("0.19"),
        Decimal("1.19"),
    )
    assert charge.period_start == APRIL + timedelta(days=20)
    assert charge.period_end == number.current_period_end == APRIL + timedelta(days=30)
    assert charge.ledger_entry.amount == Decimal("-1.19")
    assert charge.ledger_entry.created_by == customer_admin
    assert balance_for(customer) == before - Decimal("1.19")
    assert capacity.recurring_price == Decimal("3.00")
    assert list(balance_mismatches()) == []


def test_the_quote_shows_what_capacity_add_charges(customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "50.00")
        number = start(customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=20))
        quote = capacity_quote(number_subscription=number, extra_channels=2)
        capacity = add(number, 2, actor=customer_admin)
    charge = capacity.charges.get()
    assert (quote.net, quote.vat, quote.gross) == (charge.net, charge.vat, charge.amount)
    assert quote.recurring_price == capacity.recurring_price
    assert quote.period_end == number.current_period_end


def test_capacity_is_aligned_with_the_number_subscription(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number = start(us_customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=45))  # into May, the second period
        subscriptions_renew_due()
        number.refresh_from_db()
        assert number.current_period_index == 1

        capacity = add(number, 3, actor=customer_admin)

    assert capacity.kind == Subscription.Kind.CAPACITY
    assert capacity.did_id == number.did_id
    assert capacity.channels == 3
    assert capacity.recurring_price == Decimal("4.50")
    for name in (
        "anchor_at",
        "period_unit",
        "period_count",
        "current_period_index",
        "current_period_start",
        "current_period_end",
        "next_renewal_at",
        "billing_type",
        "account_id",
    ):
        assert getattr(capacity, name) == getattr(number, name), name
    charge = capacity.charges.get()
    assert charge.period_index == 1
    # 31-day May, 16 days left: 4.50 × 16/31 = 2.3225… → 2.32
    assert charge.amount == Decimal("2.32")


def test_capacity_add_is_idempotent_on_its_key(us_customer, customer_admin):
    fund(us_customer, "50.00")
    number = start(us_customer, price="3.00")
    first = add(number, 2, actor=customer_admin, idempotency_key="capacity:once")
    again = add(number, 2, actor=customer_admin, idempotency_key="capacity:once")
    assert again.pk == first.pk
    assert Subscription.objects.filter(kind="capacity").count() == 1
    assert SubscriptionCharge.objects.filter(subscription=first).count() == 1
    assert LedgerEntry.objects.filter(reference_id=str(first.pk)).count() == 1


def test_a_key_used_for_another_number_is_refused(us_customer, customer_admin):
    fund(us_customer, "50.00")
    one, two = start(us_customer, price="3.00"), start(us_customer, price="3.00")
    add(one, 1, actor=customer_admin, idempotency_key="capacity:shared")
    with pytest.raises(ValidationError, match="already used"):
        add(two, 1, actor=customer_admin, idempotency_key="capacity:shared")


def test_insufficient_balance_says_balance_and_amount_and_saves_nothing(customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "3.57")  # 3.00 + 19 % for the number's first month
        number = start(customer, unit="month", price="3.00")
        fund(customer, "0.50")
        clock.move_to(APRIL + timedelta(days=20))
        with pytest.raises(InsufficientBalance) as caught:
            add(number, 2, actor=customer_admin)
    assert caught.value.balance == Decimal("0.50")
    assert caught.value.amount == Decimal("1.19")
    assert "0.50 USD" in caught.value.messages[0] and "1.19 USD" in caught.value.messages[0]
    assert not Subscription.objects.filter(kind="capacity").exists()
    assert balance_for(customer) == Decimal("0.50")
    assert SubscriptionCharge.objects.count() == 1  # the number's own first period


@pytest.mark.parametrize("state", ["hold", "cancelled", "one_time", "did_on_hold"])
def test_only_an_active_recurring_number_gets_capacity(us_customer, customer_admin, state):
    fund(us_customer, "50.00")
    if state == "one_time":
        number = start(us_customer, billing_type="one_time", unit="", price="3.00")
    else:
        number = start(us_customer, price="3.00")
    if state == "hold":
        Subscription.objects.filter(pk=number.pk).update(
            status=S.HOLD,
            next_renewal_at=None,
            renewal_failed_at=timezone.now(),
            hold_cause="customer_unpaid",
        )
    elif state == "cancelled":
        subscription_cancel(subscription=number, actor=customer_admin)
    elif state == "did_on_hold":
        did_transition(did=number.did, to_status=DIDStatus.HOLD, job="tests", reason="package")
    number.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        add(number, 1, actor=customer_admin)
    assert number.did.number in caught.value.messages[0]
    assert not Subscription.objects.filter(kind="capacity").exists()


def test_a_number_whose_renewal_is_due_is_refused_until_it_renews(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "50.00")
        number = start(us_customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=30, minutes=1))
        with pytest.raises(ValidationError, match="renewal .* is being processed"):
            add(number, 1, actor=customer_admin)


@pytest.mark.parametrize("extra", [0, 1001])
def test_bad_input_names_its_field(us_customer, customer_admin, extra):
    fund(us_customer, "50.00")
    number = start(us_customer, price="3.00")
    with pytest.raises(ValidationError) as caught:
        add(number, extra, actor=customer_admin)
    assert "extra_channels" in caught.value.message_dict


def test_members_and_strangers_may_not_buy_capacity(us_customer, customer_member, stranger):
    fund(us_customer, "50.00")
    number = start(us_customer, price="3.00")
    for actor in (customer_member, stranger):
        with pytest.raises(PermissionDenied):
            add(number, 1, actor=actor)
    assert not Subscription.objects.filter(kind="capacity").exists()


# --- The selector ---------------------------------------------------------------------------


def test_channels_are_the_number_plus_live_capacity(us_customer, customer_admin):
    fund(us_customer, "100.00")
    number = start(us_customer, price="3.00", channels=2)
    other_number = start(us_customer, price="3.00", channels=2)
    one = add(number, 1, actor=customer_admin)
    add(number, 3, actor=customer_admin)
    add(other_number, 5, actor=customer_admin)  # another number's capacity never counts
    assert number_channels(number).total == 6

    subscription_cancel(subscription=one, actor=customer_admin)
    totals = number_channels(number)
    assert (totals.total, totals.ending, totals.now) == (5, 1, 6)
    assert totals.ending_at == number.current_period_end


# --- Fewer channels -------------------------------------------------------------------------


def _number_with_capacity(account, actor, blocks, *, clock=None):
    number = start(account, price="3.00", channels=2)
    bought = []
    for extra in blocks:
        if clock is not None:
            clock.shift(timedelta(minutes=1))
        bought.append(add(number, extra, actor=actor))
    return number, bought


def test_reduce_cancels_an_exact_combination_newest_first(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number, (two, three, other_two) = _number_with_capacity(
            us_customer, customer_admin, [2, 3, 2], clock=clock
        )
        plan = capacity_reduce(number_subscription=number, channels=7, actor=customer_admin)
    assert plan.exact and (plan.before, plan.after) == (9, 7)
    assert [sub.pk for sub in plan.cancel] == [other_two.pk]  # the newest 2, not the oldest
    other_two.refresh_from_db()
    two.refresh_from_db()
    assert other_two.status == S.CANCELLED and two.status == S.ACTIVE
    assert plan.effective_at == number.current_period_end
    assert number_channels(number).total == 7


def test_reduce_finds_a_combination_the_newest_alone_misses(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number, (two_a, two_b, three) = _number_with_capacity(
            us_customer, customer_admin, [2, 2, 3], clock=clock
        )
        plan = capacity_reduce(number_subscription=number, channels=5, actor=customer_admin)
    assert plan.exact and plan.after == 5
    assert {sub.pk for sub in plan.cancel} == {two_a.pk, two_b.pk}


def test_reduce_without_an_exact_combination_cancels_newest_first_and_says_so(
    us_customer, customer_admin
):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number, (three,) = _number_with_capacity(us_customer, customer_admin, [3], clock=clock)
        plan = capacity_reduce_plan(number_subscription=number, channels=4)
        assert (plan.exact, plan.before, plan.after) == (False, 5, 2)
        done = capacity_reduce(number_subscription=number, channels=4, actor=customer_admin)
    assert done.after == 2
    three.refresh_from_db()
    assert three.status == S.CANCELLED


def test_reduce_to_the_current_total_changes_nothing(us_customer, customer_admin):
    fund(us_customer, "100.00")
    number, (three,) = _number_with_capacity(us_customer, customer_admin, [3])
    plan = capacity_reduce(number_subscription=number, channels=5, actor=customer_admin)
    assert not plan.changes_anything
    three.refresh_from_db()
    assert three.status == S.ACTIVE


@pytest.mark.parametrize(("channels", "message"), [(1, "cannot go below 2"), (9, "has 5")])
def test_reduce_refuses_below_the_rental_or_above_the_total(
    us_customer, customer_admin, channels, message
):
    fund(us_customer, "100.00")
    number, _ = _number_with_capacity(us_customer, customer_admin, [3])
    with pytest.raises(ValidationError) as caught:
        capacity_reduce(number_subscription=number, channels=channels, actor=customer_admin)
    assert message in caught.value.message_dict["channels"][0]
    assert not Subscription.objects.filter(status=S.CANCELLED).exists()


def test_reduced_channels_end_at_the_period_end_and_the_number_renews_cheaper(
    us_customer, customer_admin
):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number, (three,) = _number_with_capacity(us_customer, customer_admin, [3])
        capacity_reduce(number_subscription=number, channels=2, actor=customer_admin)
        clock.move_to(number.current_period_end + timedelta(minutes=1))
        before = balance_for(us_customer)
        end_subscriptions()
        renew_subscriptions()
    three.refresh_from_db()
    number.refresh_from_db()
    assert three.status == S.ENDED and three.charges.count() == 1
    assert number.status == S.ACTIVE and number.current_period_index == 1
    assert balance_for(us_customer) == before - Decimal("3.00")  # the number alone
    number.did.refresh_from_db()
    assert number.did.status == DIDStatus.ACTIVE


# --- Cancelling a number with its capacity ---------------------------------------------------


def test_cancel_stops_number_and_capacity_at_the_period_end(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "100.00")
        number, (two,) = _number_with_capacity(us_customer, customer_admin, [2])
        number_rental_cancel(number_subscription=number, actor=customer_admin)
        number.refresh_from_db()
        two.refresh_from_db()
        assert (number.status, two.status) == (S.CANCELLED, S.CANCELLED)
        assert number.did.status == DIDStatus.ACTIVE  # works to the end of the paid period

        clock.move_to(number.current_period_end + timedelta(minutes=1))
        charges_before = SubscriptionCharge.objects.count()
        renew_subscriptions()
        subscriptions_end_due()
    number.refresh_from_db()
    two.refresh_from_db()
    number.did.refresh_from_db()
    assert (number.status, two.status) == (S.ENDED, S.ENDED)
    assert SubscriptionCharge.objects.count() == charges_before  # nothing renewed
    assert number.did.owner is None and number.did.status == DIDStatus.IN_STOCK


def test_cancel_is_for_the_accounts_admins(us_customer, customer_member, stranger):
    fund(us_customer, "100.00")
    number = start(us_customer, price="3.00")
    for actor in (customer_member, stranger):
        with pytest.raises(PermissionDenied):
            number_rental_cancel(number_subscription=number, actor=actor)
    number.refresh_from_db()
    assert number.status == S.ACTIVE


# --- Invoices and renewals ------------------------------------------------------------------


def test_the_daily_invoice_bills_the_prorata_charge(customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "50.00")
        number = start(customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=20))
        capacity = add(number, 2, actor=customer_admin)
        clock.move_to(APRIL + timedelta(days=21, hours=1))
        issued = invoices_issue_daily()
        assert invoices_issue_daily() == 0  # a second run bills nothing twice
    assert issued == 1
    charge = capacity.charges.get()
    line = InvoiceLine.objects.get(subscription_charge=charge)
    assert (line.net, line.vat, line.gross) == (Decimal("1.00"), Decimal("0.19"), Decimal("1.19"))
    assert "Extra capacity: 2 channels" in line.description
    assert (line.period_start.isoformat(), line.period_end.isoformat()) == (
        "2026-04-21",
        "2026-04-30",
    )


def test_number_and_capacity_renew_together_for_24_months(us_customer, customer_admin):
    """Two years, renewal by renewal: both renew at the same moment every month, the capacity at
    its full price after the pro-rata first charge, nothing skipped or billed twice."""
    anchor = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    with time_machine.travel(anchor, tick=False) as clock:
        fund(us_customer, "1000.00")
        number = start(us_customer, unit="month", price="3.00")
        clock.shift(timedelta(days=14))  # 14 of January 31 – February 28 (28 days) gone
        capacity = add(number, 2, actor=customer_admin)
        walk_renewals(
            clock, [number, capacity], until=anchor + timedelta(days=731), run=renew_subscriptions
        )
        number.refresh_from_db()
        capacity.refresh_from_db()
    number_charges = list(number.charges.order_by("period_index"))
    capacity_charges = list(capacity.charges.order_by("period_index"))
    assert len(number_charges) == 25
    assert [c.period_index for c in capacity_charges] == list(range(25))
    assert capacity_charges[0].amount == Decimal("1.50")  # 3.00 × 14/28 days left
    assert {c.amount for c in capacity_charges[1:]} == {Decimal("3.00")}
    for mine, its in zip(capacity_charges[1:], number_charges[1:], strict=True):
        assert (mine.period_start, mine.period_end) == (its.period_start, its.period_end)
    assert [timezone.localtime(c.period_start).day for c in capacity_charges[1:5]] == [
        28,
        31,
        30,
        31,
    ]
    assert capacity.next_renewal_at == number.next_renewal_at
    assert capacity.current_period_index == number.current_period_index == 24
    spent = Decimal("3.00") * 25 + Decimal("1.50") + Decimal("3.00") * 24
    assert balance_for(us_customer) == Decimal("1000.00") - spent
    assert list(balance_mismatches()) == []


def test_a_held_capacity_renewal_resumes_after_a_top_up(us_customer, customer_admin):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "9.00")  # number 3.00 + capacity 1.50 now, then 3.00 per month
        number = start(us_customer, unit="month", price="3.00")
        clock.move_to(APRIL + timedelta(days=15))
        capacity = add(number, 2, actor=customer_admin)
        spend(us_customer, balance_for(us_customer) - Decimal("3.00"))
        clock.move_to(number.current_period_end + timedelta(minutes=1))
        counts = subscriptions_renew_due()
        assert (counts["renewed"], counts["hold"]) == (1, 1)  # the number first (lower id)
        capacity.refresh_from_db()
        assert capacity.status == S.HOLD
        assert number_channels(number).extra_on_hold == 2

        fund(us_customer, "10.00")
        renew_subscriptions()
        capacity.refresh_from_db()
    assert capacity.status == S.ACTIVE and capacity.current_period_index == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_with_one_key_charge_once():
    from tests.concurrency import run_in_threads

    account = AccountFactory(country="US")
    admin = UserFactory(account=account, role="customer_admin")
    fund(account, "100.00")
    number = start(account, price="3.00")

    results = run_in_threads(
        lambda i: add(number, 2, actor=admin, idempotency_key="capacity:race").pk, count=6
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Subscription.objects.filter(kind="capacity").count() == 1
    assert SubscriptionCharge.objects.filter(subscription_id=results[0]).count() == 1
    assert list(balance_mismatches()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_never_overdraw():
    """Six different purchases against a balance that covers three: three succeed, the
    others are refused with nothing saved."""
    from tests.concurrency import run_in_threads

    account = AccountFactory(country="US")
    admin = UserFactory(account=account, role="customer_admin")
    fund(account, "3.00")
    number = start(account, price="3.00", channel_price="1.00")
    fund(account, "3.00")
    with time_machine.travel(number.current_period_start, tick=False):
        results = run_in_threads(lambda i: add(number, 1, actor=admin), count=6)
    bought = [r for r in results if isinstance(r, Subscription)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(bought), len(refused)) == (3, 3), results
    assert balance_for(account) == Decimal("0.00")
    assert Subscription.objects.filter(kind="capacity").count() == 3
    assert list(balance_mismatches()) == []


@pytest.mark.parametrize("together", [True, False], ids=["batch", "one_by_one"])
def test_capacity_of_an_unpaid_number_waits_on_hold_and_resumes_after_it(
    us_customer, customer_admin, finance_user, together, monkeypatch
):
    """The number's renewal is unpaid: its capacity is not charged (no channels on a number
    that takes no calls), waits on hold without a second e-mail, and resumes after it."""
    import billing.services.renewals as renewals

    if not together:  # force the one-by-one path (batches of one) the batch falls back to
        monkeypatch.setattr(renewals, "renew_locked", _fail_together(renewals.renew_locked))
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(us_customer, "11.00")
        number = start(us_customer, unit="month", price="5.00")
        capacity = add(number, 2, actor=customer_admin)  # 3.00 now: 3.00 left
        # The 3.00 left would pay the capacity's next month, not the number's 5.00.
        clock.shift(timedelta(days=30, minutes=1))
        spend_before = LedgerEntry.objects.filter(kind="charge").count()
        assert subscriptions_renew_due()["hold"] == 2
        number.refresh_from_db()
        capacity.refresh_from_db()
        assert (number.status, capacity.status) == (S.HOLD, S.HOLD)
        assert LedgerEntry.objects.filter(kind="charge").count() == spend_before
        assert number.did.unpaid and number.did.status == DIDStatus.HOLD
        from outbox.models import OutgoingEmail

        assert OutgoingEmail.objects.filter(subject__icontains="renewal failed").count() == 1

        from billing.services import topup_record
        from billing.services.renewals import (
            subscriptions_resume_after_topup,
        )

        topup_record(account=us_customer, amount="5.00", external_reference="T", actor=finance_user)
        assert subscriptions_resume_after_topup(account=us_customer) == 2
    number.refresh_from_db()
    capacity.refresh_from_db()
    assert (number.status, capacity.status) == (S.ACTIVE, S.ACTIVE)
    assert capacity.current_period_index == number.current_period_index == 1
    assert balance_for(us_customer) == Decimal("0.00")
    assert list(balance_mismatches()) == []


def _fail_together(renew_locked):
    def renew(subscriptions, **kwargs):
        if len(subscriptions) > 1:
            raise RuntimeError("renewing together disabled for this test")
        return renew_locked(subscriptions, **kwargs)

    return renew
