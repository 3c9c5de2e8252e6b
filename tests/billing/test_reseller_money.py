"""A reseller's customer's money (issue 11, "Money"): every period charged on two sides in
one transaction — the customer's sale (retail + VAT with the reseller as the seller) and the
reseller's wholesale (wholesale + VAT by the platform's rule) — both or neither; holds say
whose balance was short; resumes follow the cause; the database pairs the sides."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Balance, LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_mismatches
from billing.services import InsufficientBalance, LedgerBatch, renewals
from billing.services.capacity import capacity_add, capacity_reduce
from billing.services.renewals import (
    subscription_renew,
    subscription_resume,
    subscriptions_renew_due,
    subscriptions_resume_after_reactivation,
    subscriptions_resume_after_topup,
    subscriptions_resume_due,
)
from billing.tax import sale_tax_for, tax_for
from outbox.models import OutgoingEmail
from tests.billing.factories import fund, new_key, spend
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

D = Decimal
S = Subscription.Status
Cause = Subscription.HoldCause
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
AFTER_FIRST = T0 + timedelta(days=31, hours=1)  # period 1 (of a monthly rental) has started
DE_VAT = "DE136695976"
FR_VAT = "FR40303265045"


def reseller_account(country="DE", vat_number=DE_VAT, discount="20", name="Voxel Telecom"):
    reseller = AccountFactory(
        kind="reseller",
        parent=platform(),
        country=country,
        vat_number=vat_number,
        wholesale_discount=D(discount),
        name=name,
    )
    UserFactory(account=reseller, role="reseller_admin", email=f"admin@{reseller.pk}.test")
    return reseller


def customer_of(reseller, country="DE", vat_number="", **fields):
    customer = AccountFactory(parent=reseller, country=country, vat_number=vat_number, **fields)
    UserFactory(account=customer, role="customer_admin", email=f"admin@{customer.pk}.test")
    return customer


def did_of(account, monthly="2.00", setup="0.00"):
    block = NumberBlockFactory(monthly_price=D(monthly), setup_fee=D(setup))
    return held_did(account, block=block)


def rent(customer, *, price="2.40", setup="0.00", block_setup="0.00", **kw):
    """A monthly rental at retail ``price`` of a number whose list price is 2.00 a month
    (wholesale 1.60 at the reseller's 20 % discount) and setup fee ``block_setup``."""
    did = did_of(customer, setup=block_setup)
    return start(customer, did=did, price=price, setup=setup, **kw)


def charges(sub, side=None):
    rows = SubscriptionCharge.objects.filter(subscription=sub).order_by("period_index", "side")
    return list(rows.filter(side=side) if side else rows)


def balance(account):
    return Balance.objects.get(account=account).amount


def emails_to(account, subject_part=""):
    admins = list(account.users.values_list("email", flat=True))
    return [
        e
        for e in OutgoingEmail.objects.filter(subject__contains=subject_part)
        if set(e.to) & set(admins)
    ]


def no_mismatch():
    assert not list(balance_mismatches())


# --- VAT per side ---------------------------------------------------------------------------


def test_tax_for_takes_the_seller_country():
    reseller = reseller_account(country="DE")
    de_business = AccountFactory(parent=reseller, country="DE", vat_number=DE_VAT)
    fr_business = AccountFactory(parent=reseller, country="FR", vat_number=FR_VAT)
    fr_consumer = AccountFactory(parent=reseller, country="FR")

    # A German reseller selling to a German business: domestic, German VAT.
    decision = tax_for(de_business, seller=reseller)
    assert (decision.rate, decision.country, decision.reverse_charge) == (D("19.00"), "DE", False)
    # …to a French business: reverse charge (the platform, in NL, would charge the same).
    decision = tax_for(fr_business, seller=reseller)
    assert (decision.rate, decision.reverse_charge) == (D("0"), True)
    # …to a French consumer: French VAT.
    assert tax_for(fr_consumer, seller=reseller).rate == D("20.00")
    # The platform (NL) selling to the German business: reverse charge, not German VAT.
    assert tax_for(de_business).reverse_charge
    # sale_tax_for: a reseller's customer buys from its reseller.
    assert sale_tax_for(de_business) == tax_for(de_business, seller=reseller)
    assert sale_tax_for(AccountFactory(country="DE", vat_number=DE_VAT)).reverse_charge


def test_a_buyer_without_a_country_pays_the_sellers_rate_and_a_seller_outside_the_eu_none():
    de_reseller = reseller_account(country="DE")
    assert tax_for(AccountFactory(parent=de_reseller, country=""), seller=de_reseller).rate == D(
        "19.00"
    )
    us_reseller = reseller_account(country="US", vat_number="")
    decision = tax_for(AccountFactory(parent=us_reseller, country="FR"), seller=us_reseller)
    assert (decision.rate, decision.reverse_charge) == (D("0"), False)
    assert decision.note


def test_the_wholesale_side_is_taxed_by_the_platforms_rule():
    # A German reseller without a VAT number pays German VAT to the Dutch platform; with
    # one, the reverse charge applies.
    plain = reseller_account(vat_number="")
    customer = customer_of(plain)
    fund(customer, "50.00")
    fund(plain, "50.00")
    sub = rent(customer, price="2.40", setup="1.20", block_setup="1.00")
    sale, wholesale = charges(sub, "sale")[0], charges(sub, "wholesale")[0]
    assert (sale.vat_rate, sale.reverse_charge) == (D("19.00"), False)
    assert (wholesale.vat_rate, wholesale.vat_country, wholesale.reverse_charge) == (
        D("19.00"),
        "DE",
        False,
    )


# --- Start: snapshot and two charges --------------------------------------------------------


def test_start_records_the_reseller_and_wholesale_and_charges_both_sides():
    reseller = reseller_account()
    customer = customer_of(reseller)
    fund(customer, "50.00")
    fund(reseller, "50.00")

    sub = rent(customer, price="2.40", setup="1.20", block_setup="1.00")

    assert sub.reseller == reseller
    assert (sub.recurring_price, sub.setup_fee) == (D("2.40"), D("1.20"))
    assert (sub.wholesale_recurring_price, sub.wholesale_setup_fee) == (D("1.60"), D("0.80"))
    (sale,) = charges(sub, "sale")
    (wholesale,) = charges(sub, "wholesale")
    # Retail 1.20 + 2.40 with German VAT (the German reseller sells to a German consumer).
    assert (sale.account, sale.net, sale.vat, sale.amount) == (
        customer,
        D("3.60"),
        D("0.69"),  # 0.228 → 0.23, 0.456 → 0.46
        D("4.29"),
    )
    # Wholesale 0.80 + 1.60, reverse charge (a German business buying from NL).
    assert (wholesale.account, wholesale.net, wholesale.vat, wholesale.amount) == (
        reseller,
        D("2.40"),
        D("0"),
        D("2.40"),
    )
    assert wholesale.reverse_charge
    assert (sale.period_start, sale.period_end) == (wholesale.period_start, wholesale.period_end)
    assert sale.ledger_entry.idempotency_key == f"subscription:{sub.pk}:period:0"
    assert wholesale.ledger_entry.idempotency_key == f"subscription:{sub.pk}:period:0:wholesale"
    assert (balance(customer), balance(reseller)) == (D("45.71"), D("47.60"))
    no_mismatch()


def test_a_reseller_buying_for_itself_is_a_direct_sale():
    reseller = reseller_account()
    fund(reseller, "50.00")
    sub = rent(reseller, price="1.60")
    assert sub.reseller is None and sub.wholesale_recurring_price == 0
    assert [c.side for c in charges(sub)] == ["sale"]


def test_a_direct_customer_has_one_charge_per_period():
    customer = AccountFactory(country="DE")
    fund(customer, "50.00")
    sub = rent(customer)
    assert sub.reseller is None
    assert [(c.side, c.account) for c in charges(sub)] == [("sale", customer)]


@pytest.mark.parametrize("short", ["customer", "reseller"])
def test_a_shortfall_on_either_side_charges_nobody_and_says_whose(short):
    reseller = reseller_account()
    customer = customer_of(reseller)
    fund(customer, "1.00" if short == "customer" else "50.00")
    fund(reseller, "1.00" if short == "reseller" else "50.00")
    did = did_of(customer)
    before = LedgerEntry.objects.count()

    with pytest.raises(InsufficientBalance) as caught:
        start(customer, did=did, price="2.40")

    assert caught.value.account == (customer if short == "customer" else reseller)
    assert caught.value.account.name in str(caught.value)
    assert LedgerEntry.objects.count() == before
    assert not Subscription.objects.filter(did=did).exists()
    no_mismatch()


# --- LedgerBatch: several debits all or nothing ----------------------------------------------


def test_charge_all_stages_every_debit_or_none():
    rich, poor = AccountFactory(), AccountFactory()
    fund(rich, "10.00")
    fund(poor, "1.00")
    with transaction.atomic():
        batch = LedgerBatch(job="tests")
        batch.lock([rich.pk, poor.pk])
        batch.charge(account=rich, amount=D("1.00"), idempotency_key=new_key())
        with pytest.raises(InsufficientBalance) as caught:
            batch.charge_all(
                [
                    {"account": rich, "amount": D("5.00"), "idempotency_key": new_key()},
                    {"account": poor, "amount": D("2.00"), "idempotency_key": new_key()},
                ]
            )
        assert caught.value.account == poor
        assert batch.balances[rich.pk].amount == D("9.00")  # only the first charge
        batch.charge_all(
            [
                {"account": rich, "amount": D("5.00"), "idempotency_key": new_key()},
                {"account": poor, "amount": D("1.00"), "idempotency_key": new_key()},
            ]
        )
        batch.post()
    assert (balance(rich), balance(poor)) == (D("4.00"), D("0.00"))
    assert LedgerEntry.objects.filter(kind="charge").count() == 3
    no_mismatch()


# --- Renewals -------------------------------------------------------------------------------


def test_renewal_charges_both_sides_of_the_period():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, "50.00")
        sub = rent(customer)
    with time_machine.travel(AFTER_FIRST, tick=False):
        assert subscriptions_renew_due()["renewed"] == 1
    renewal = [c for c in charges(sub) if c.period_index == 1]
    assert sorted((c.side, c.account_id, c.net) for c in renewal) == [
        ("sale", customer.pk, D("2.40")),
        ("wholesale", reseller.pk, D("1.60")),
    ]
    keys = {c.ledger_entry.idempotency_key for c in renewal}
    assert keys == {f"subscription:{sub.pk}:period:1", f"subscription:{sub.pk}:period:1:wholesale"}
    no_mismatch()


def test_reseller_short_holds_for_reseller_unpaid_without_charging_or_mailing_the_customer():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, "3.20")  # the first periods of both rentals, nothing more
        first, second = rent(customer), rent(customer)
        customer_before = balance(customer)
    with time_machine.travel(AFTER_FIRST, tick=False):
        counts = subscriptions_renew_due()
    assert counts["hold"] == 2
    for sub in (first, second):
        sub.refresh_from_db()
        assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.RESELLER_UNPAID)
        assert sub.did.status == "hold"
        assert len(charges(sub)) == 2  # period 0 only, both sides
    assert balance(customer) == customer_before
    assert not emails_to(customer, "Renewal failed")
    (notice,) = emails_to(reseller, "on hold")
    assert first.did.number in notice.text and second.did.number in notice.text
    no_mismatch()


class WorkerKilled(BaseException):
    """What a kill -9 looks like from inside: the run stops where it is (no handler runs)."""


def test_a_run_killed_after_a_batch_still_tells_the_reseller_about_its_holds(monkeypatch):
    # The reseller's notice is queued with the holds it reports: a run killed after a batch
    # commits (kill -9 of the worker) loses none, and the next run never holds them again.
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, "3.20")  # the first periods of both rentals, nothing more
        first, second = rent(customer), rent(customer)
    batches = []
    real_renew_locked = renewals.renew_locked

    def killed_at_the_second_batch(subscriptions, **kwargs):
        batches.append([row.pk for row in subscriptions])
        if len(batches) == 2:
            raise WorkerKilled
        return real_renew_locked(subscriptions, **kwargs)

    monkeypatch.setattr(renewals, "renew_locked", killed_at_the_second_batch)
    with time_machine.travel(AFTER_FIRST, tick=False), pytest.raises(WorkerKilled):
        subscriptions_renew_due(batch_size=1)
    (held_pk,) = batches[0]
    held = Subscription.objects.get(pk=held_pk)
    assert (held.status, held.hold_cause) == (S.HOLD, Cause.RESELLER_UNPAID)
    (notice,) = emails_to(reseller, "on hold")
    assert held.did.number in notice.text
    other = second if held.pk == first.pk else first
    assert other.did.number not in notice.text


def test_customer_short_holds_for_customer_unpaid_and_tells_the_customer():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "2.86")  # the first period only (2.40 + 19 %)
        fund(reseller, "50.00")
        sub = rent(customer)
    with time_machine.travel(AFTER_FIRST, tick=False):
        subscriptions_renew_due()
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.CUSTOMER_UNPAID)
    assert emails_to(customer, "Renewal failed")
    assert not emails_to(reseller, "on hold")
    assert balance(reseller) == D("48.40")  # the wholesale side was not charged either


def held_for_reseller(count=2, reseller_funds="3.20"):
    """``count`` rentals of one customer held for "reseller unpaid", oldest first."""
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, D("1.60") * count)
        subs = [rent(customer) for _ in range(count)]
    for i in range(count):
        with time_machine.travel(AFTER_FIRST + timedelta(minutes=i), tick=False):
            subscription_renew(subscription=subs[i])
    for sub in subs:
        sub.refresh_from_db()
        assert sub.hold_cause == Cause.RESELLER_UNPAID
    return reseller, customer, subs


def test_a_reseller_top_up_resumes_its_customers_oldest_first_charging_both_sides():
    reseller, customer, (oldest, newest) = held_for_reseller()
    fund(reseller, "1.60")  # one wholesale period
    assert subscriptions_resume_after_topup(account=reseller) == 1
    oldest.refresh_from_db()
    newest.refresh_from_db()
    assert (oldest.status, newest.status) == (S.ACTIVE, S.HOLD)
    assert newest.hold_cause == Cause.RESELLER_UNPAID
    assert sorted(c.side for c in charges(oldest) if c.period_index == 1) == ["sale", "wholesale"]
    fund(reseller, "5.00")
    assert subscriptions_resume_after_topup(account=reseller) == 1
    newest.refresh_from_db()
    assert newest.status == S.ACTIVE
    no_mismatch()


def test_a_customer_found_short_by_the_resellers_resume_is_asked_to_top_up():
    reseller, customer, (sub,) = held_for_reseller(count=1)
    spend(customer, balance(customer))
    fund(reseller, "10.00")
    assert subscriptions_resume_after_topup(account=reseller) == 0
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.CUSTOMER_UNPAID)
    assert emails_to(customer, "Renewal failed")
    assert balance(reseller) == D("10.00")
    fund(customer, "5.00")
    assert subscriptions_resume_after_topup(account=customer) == 1


def test_a_customer_top_up_does_not_resume_reseller_unpaid():
    reseller, customer, subs = held_for_reseller(count=1)
    fund(customer, "20.00")
    assert subscriptions_resume_after_topup(account=customer) == 0
    subs[0].refresh_from_db()
    assert (subs[0].status, subs[0].hold_cause) == (S.HOLD, Cause.RESELLER_UNPAID)


def test_a_customer_top_up_resumes_customer_unpaid_and_a_short_reseller_takes_over_the_cause():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "2.86")
        fund(reseller, "1.60")  # the first wholesale period only
        sub = rent(customer)
    with time_machine.travel(AFTER_FIRST, tick=False):
        subscriptions_renew_due()
        sub.refresh_from_db()
        assert sub.hold_cause == Cause.CUSTOMER_UNPAID
        fund(customer, "10.00")
        assert subscription_resume(subscription=sub) == "reseller_insufficient"
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.RESELLER_UNPAID)
    assert balance(customer) == D("10.00")  # not charged
    with time_machine.travel(AFTER_FIRST + timedelta(hours=1), tick=False):
        fund(reseller, "1.60")
        assert subscriptions_resume_after_topup(account=reseller) == 1
    sub.refresh_from_db()
    assert sub.status == S.ACTIVE
    assert (balance(customer), balance(reseller)) == (D("7.14"), D("0.00"))
    no_mismatch()


def test_the_periodic_safety_net_resumes_reseller_unpaid_when_the_reseller_can_pay():
    reseller, customer, subs = held_for_reseller(count=1)
    fund(reseller, "10.00")  # the resume task was lost: only the safety net runs
    assert subscriptions_resume_due() == 1
    subs[0].refresh_from_db()
    assert subs[0].status == S.ACTIVE


def test_a_suspended_customer_is_not_renewed_and_reactivation_resumes_it():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, "50.00")
        sub = rent(customer)
        customer.status = "suspended"
        customer.save(update_fields=["status"])
        before = (balance(customer), balance(reseller))
    with time_machine.travel(AFTER_FIRST, tick=False):
        assert subscriptions_renew_due()["hold"] == 1
        sub.refresh_from_db()
        assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.ACCOUNT_SUSPENDED)
        assert (balance(customer), balance(reseller)) == before
        assert not emails_to(customer, "Renewal failed") and not emails_to(reseller, "on hold")
        # A top-up while suspended resumes nothing; nor does the safety net.
        fund(customer, "5.00")
        assert subscriptions_resume_after_topup(account=customer) == 0
        assert subscriptions_resume_due() == 0
        customer.status = "active"
        customer.save(update_fields=["status"])
        assert subscriptions_resume_after_reactivation(account=customer) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.ACTIVE, "")
    assert sorted(c.side for c in charges(sub) if c.period_index == 1) == ["sale", "wholesale"]
    no_mismatch()


def test_renewals_of_a_batch_lock_and_write_per_batch_not_per_row():
    """The statements of a batch of resold rentals do not grow with its rows."""
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        fund(reseller, "100.00")
        customers = [customer_of(reseller) for _ in range(3)]
        for customer in customers:
            fund(customer, "200.00")
        subs = [rent(customer) for customer in customers for _ in range(2)]
    with time_machine.travel(AFTER_FIRST, tick=False), CaptureQueriesContext(connection) as few:
        subscriptions_renew_due()
    assert all(
        s.status == S.ACTIVE for s in Subscription.objects.filter(pk__in=[s.pk for s in subs])
    )
    with time_machine.travel(T0, tick=False):
        more = [rent(customer) for customer in customers for _ in range(6)]
    with time_machine.travel(AFTER_FIRST, tick=False), CaptureQueriesContext(connection) as many:
        subscriptions_renew_due()
    assert len(more) == 18
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Capacity -------------------------------------------------------------------------------


def test_added_channels_are_charged_pro_rata_on_both_sides():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        admin = customer.users.get()
        fund(customer, "50.00")
        fund(reseller, "50.00")
        block = NumberBlockFactory(monthly_price=D("2.00"), extra_channel_monthly_price=D("1.00"))
        did = held_did(customer, block=block)
        number = start(customer, did=did, price="2.40")
    # Halfway through March's period (31 days): 15.5 days left.
    with time_machine.travel(T0 + timedelta(days=15, hours=12), tick=False):
        capacity = capacity_add(
            number_subscription=number, extra_channels=2, actor=admin, idempotency_key="c1"
        )
    assert capacity.reseller == reseller
    assert capacity.wholesale_recurring_price == D("1.60")  # 2 × 0.80
    sale, wholesale = charges(capacity, "sale")[0], charges(capacity, "wholesale")[0]
    assert wholesale.account == reseller and sale.account == customer
    assert wholesale.net == D("0.80")  # half of 1.60
    assert sale.net < capacity.recurring_price
    no_mismatch()


# --- The database pairs the sides -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_raw_insert_of_one_side_fails_at_commit():
    reseller = reseller_account()
    customer = customer_of(reseller)
    fund(customer, "50.00")
    fund(reseller, "50.00")
    sub = rent(customer)
    period = dict(
        subscription_id=sub.pk,
        period_index=7,
        period_start=T0 + timedelta(days=400),
        amount=D("0"),
    )
    with pytest.raises(IntegrityError, match="sale charge needs its wholesale"):
        with transaction.atomic():
            SubscriptionCharge.objects.create(account=customer, side="sale", **period)
    with pytest.raises(IntegrityError, match="sale charge needs its wholesale"):
        with transaction.atomic():
            SubscriptionCharge.objects.create(account=reseller, side="wholesale", **period)
    # Both together commit.
    with transaction.atomic():
        SubscriptionCharge.objects.create(account=customer, side="sale", **period)
        SubscriptionCharge.objects.create(account=reseller, side="wholesale", **period)
    assert SubscriptionCharge.objects.filter(subscription=sub, period_index=7).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_charge_on_the_wrong_account_is_refused():
    reseller = reseller_account()
    customer = customer_of(reseller)
    fund(customer, "50.00")
    fund(reseller, "50.00")
    sub = rent(customer)
    direct = AccountFactory()
    fund(direct, "10.00")
    direct_sub = rent(direct)
    period = dict(period_index=7, period_start=T0 + timedelta(days=400), amount=D("0"))
    wrong = [
        dict(subscription_id=sub.pk, account=reseller, side="sale"),
        dict(subscription_id=sub.pk, account=customer, side="wholesale"),
        dict(subscription_id=direct_sub.pk, account=reseller, side="wholesale"),
    ]
    for fields in wrong:
        with pytest.raises(IntegrityError, match="charge is on its subscription"):
            with transaction.atomic():
                SubscriptionCharge.objects.create(**fields, **period)


def test_the_pairing_trigger_exists():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname = 'billing_charge_sides_paired'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'billing_charge_account_matches'"
            )
        assert cursor.fetchone()


def test_hold_cause_is_constrained():
    customer = AccountFactory()
    fund(customer, "10.00")
    sub = rent(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=sub.pk).update(hold_cause=Cause.CUSTOMER_UNPAID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=sub.pk).update(
            status=S.HOLD,
            next_renewal_at=None,
            renewal_failed_at=T0,
            hold_cause=Cause.RESELLER_UNPAID,  # a direct customer has no reseller
        )


def test_extra_channels_given_up_take_their_wholesale_part_with_them():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        admin = customer.users.get()
        fund(customer, "50.00")
        fund(reseller, "50.00")
        block = NumberBlockFactory(
            monthly_price=D("2.00"), extra_channel_monthly_price=D("1.00"), channels_included=2
        )
        number = start(
            customer,
            did=held_did(customer, block=block),
            price="3.00",
            channels=3,
            included_channels=2,
            extra_channels_price=D("1.00"),
        )
        # Wholesale (−20 %): 1.60 a month + one extra channel at 0.80.
        assert (number.wholesale_recurring_price, number.wholesale_extra_channels_price) == (
            D("2.40"),
            D("0.80"),
        )
        capacity_reduce(number_subscription=number, channels=2, actor=admin)
    number.refresh_from_db()
    split = Subscription.objects.get(kind="capacity", did=number.did)
    assert (number.wholesale_recurring_price, number.wholesale_extra_channels_price) == (
        D("1.60"),
        D("0"),
    )
    assert (split.reseller, split.wholesale_recurring_price) == (reseller, D("0.80"))
    with time_machine.travel(AFTER_FIRST, tick=False):
        subscriptions_renew_due()
    renewal = {c.side: c.net for c in charges(number) if c.period_index == 1}
    assert renewal == {"sale": D("2.00"), "wholesale": D("1.60")}
    no_mismatch()
