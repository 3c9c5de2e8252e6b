"""A reseller's price list applied to its customers' renewals from a date: at least 30 days
ahead, the customers e-mailed old → new, the job applies it once, renewals after charge the
new price, and a change can be cancelled before its date."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from billing.services.capacity import capacity_add
from billing.services.renewals import subscriptions_renew_due
from billing.services.repricing import (
    renewal_price_change_apply,
    renewal_price_change_schedule,
    renewal_price_changes_apply_due,
)
from billing.tasks import apply_renewal_price_changes
from catalog.models import RenewalPriceChange
from catalog.services import renewal_price_change_cancel
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory, reseller_account
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db
D = Decimal
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def voxel(db):
    return reseller_account(name="Voxel", wholesale_discount=D("10"))


@pytest.fixture
def voxel_admin(voxel):
    return UserFactory(account=voxel, role="reseller_admin")


@pytest.fixture
def block(db):
    # Wholesale: 1.80 a month, an extra channel 0.90 a month.
    return NumberBlockFactory(monthly_price=D("2.00"), extra_channel_monthly_price=D("1.00"))


def customer_of(reseller, name):
    account = AccountFactory(parent=reseller, name=name, country="US")
    UserFactory(account=account, role="customer_admin", email=f"admin@{name.lower()}.test")
    UserFactory(account=account, role="customer_billing", email=f"books@{name.lower()}.test")
    fund(account, "100.00")
    return account


def resold(account, reseller, *, block, price="1.80", channels=2, included=2, extra="0.00"):
    """A monthly rental started at ``NOW`` at its retail snapshot, sold by ``reseller``."""
    did = held_did(account, block=block)
    subscription = start(
        account,
        did=did,
        price=price,
        channels=channels,
        included_channels=included,
        extra_channels_price=D(extra),
        now=NOW,
    )
    Subscription.objects.filter(pk=subscription.pk).update(reseller=reseller)
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def book(voxel, block):
    """Two customers of Voxel with three rentals at wholesale (Voxel had no price list),
    one with an extra channel; Voxel now marks recurring prices up 50 %."""
    acme, bolt = customer_of(voxel, "Acme"), customer_of(voxel, "Bolt")
    subs = {
        "acme": resold(acme, voxel, block=block),
        "acme_3ch": resold(
            acme, voxel, block=block, price="2.70", channels=3, included=2, extra="0.90"
        ),
        "bolt": resold(bolt, voxel, block=block),
    }
    direct = AccountFactory(country="US")
    fund(direct)
    subs["direct"] = start(direct, did=held_did(direct, block=block), price="2.00", now=NOW)
    MarkupRuleFactory(reseller=voxel, recurring_percent=D("50"))
    return subs


def schedule(voxel, voxel_admin, days=30, now=NOW):
    return renewal_price_change_schedule(
        reseller=voxel,
        effective_on=timezone.localdate(now) + timedelta(days=days),
        actor=voxel_admin,
        now=now,
    )


def test_the_date_is_at_least_30_days_ahead(voxel, voxel_admin, book):
    with pytest.raises(ValidationError) as error:
        schedule(voxel, voxel_admin, days=29)
    assert "at least 30 days" in str(error.value.message_dict["effective_on"])
    assert not RenewalPriceChange.objects.exists() and not OutgoingEmail.objects.exists()
    assert schedule(voxel, voxel_admin, days=30).status == "scheduled"
    with pytest.raises(ValidationError, match="already scheduled"):
        schedule(voxel, voxel_admin, days=60)


def test_scheduling_emails_each_customers_admins_old_and_new_prices(voxel, voxel_admin, book):
    change = schedule(voxel, voxel_admin)
    lines = {line.subscription_id: line for line in change.lines.all()}
    assert set(lines) == {book["acme"].pk, book["acme_3ch"].pk, book["bolt"].pk}
    assert (lines[book["acme"].pk].old_recurring, lines[book["acme"].pk].new_recurring) == (
        D("1.80"),
        D("2.70"),
    )
    # 2.70 + one extra channel at wholesale (no extra-channel markup) 0.90.
    assert lines[book["acme_3ch"].pk].new_recurring == D("3.60")
    emails = {tuple(email.to): email for email in OutgoingEmail.objects.all()}
    assert set(emails) == {("admin@acme.test",), ("admin@bolt.test",)}  # admins only
    acme = emails[("admin@acme.test",)].text
    assert book["acme"].did.number in acme and "1.80 → 2.70" in acme and "2.70 → 3.60" in acme
    assert book["bolt"].did.number not in acme  # each customer sees its own numbers
    assert f"{change.effective_on:%d %B %Y}" in emails[("admin@bolt.test",)].subject


def test_the_job_applies_the_change_once_on_its_date(voxel, voxel_admin, book):
    change = schedule(voxel, voxel_admin)
    day_before = NOW + timedelta(days=29)
    assert renewal_price_changes_apply_due(now=day_before) == 0
    book["acme"].refresh_from_db()
    assert book["acme"].recurring_price == D("1.80")
    on_the_day = NOW + timedelta(days=30, hours=1)
    assert renewal_price_changes_apply_due(now=on_the_day) == 3
    assert renewal_price_changes_apply_due(now=on_the_day) == 0  # twice: nothing more
    assert renewal_price_change_apply(change=change, now=on_the_day) == 0
    change.refresh_from_db()
    assert change.status == "applied" and change.applied_at == on_the_day
    prices = {
        key: Subscription.objects.values_list("recurring_price", "extra_channels_price").get(
            pk=sub.pk
        )
        for key, sub in book.items()
    }
    assert prices == {
        "acme": (D("2.70"), D("0.00")),
        "acme_3ch": (D("3.60"), D("0.90")),
        "bolt": (D("2.70"), D("0.00")),
        "direct": (D("2.00"), D("0.00")),  # not Voxel's: untouched
    }


def test_renewals_before_the_date_keep_the_old_price_and_after_it_charge_the_new(
    voxel, voxel_admin, book
):
    schedule(voxel, voxel_admin, days=35)
    subscription = book["acme"]
    first_renewal = subscription.next_renewal_at  # 2 April: before the date
    renewal_price_changes_apply_due(now=first_renewal)
    subscriptions_renew_due(now=first_renewal)
    subscription.refresh_from_db()
    second_renewal = subscription.next_renewal_at  # 2 May: after the date (6 April)
    renewal_price_changes_apply_due(now=second_renewal)
    subscriptions_renew_due(now=second_renewal)
    charges = subscription.charges.filter(side="sale").order_by("period_index")
    assert [c.net for c in charges] == [D("1.80"), D("1.80"), D("2.70")]


def test_the_beat_task_applies_due_changes(voxel, voxel_admin, book, time_machine):
    schedule(voxel, voxel_admin)
    time_machine.move_to(NOW + timedelta(days=31))
    assert apply_renewal_price_changes() == 3
    assert apply_renewal_price_changes() == 0


def test_channels_changed_meanwhile_are_priced_at_the_announced_channel_price(
    voxel, voxel_admin, book
):
    schedule(voxel, voxel_admin)
    admin = book["acme"].account.users.get(role="customer_admin")
    capacity = capacity_add(
        number_subscription=book["acme"],
        extra_channels=2,
        actor=admin,
        idempotency_key="capacity:acme",
        now=NOW + timedelta(days=3),
    )
    Subscription.objects.filter(pk=capacity.pk).update(reseller=voxel)
    renewal_price_changes_apply_due(now=NOW + timedelta(days=31))
    capacity.refresh_from_db()
    # Added after the change was scheduled, at the price of the day: not in the change.
    assert capacity.recurring_price == D("1.80")


def test_cancelled_before_its_date_nothing_changes_and_customers_are_told(voxel, voxel_admin, book):
    change = schedule(voxel, voxel_admin)
    renewal_price_change_cancel(change=change, actor=voxel_admin, now=NOW + timedelta(days=1))
    change.refresh_from_db()
    assert change.status == "cancelled" and change.cancelled_by == voxel_admin
    assert renewal_price_changes_apply_due(now=NOW + timedelta(days=31)) == 0
    book["acme"].refresh_from_db()
    assert book["acme"].recurring_price == D("1.80")
    told = OutgoingEmail.objects.filter(subject__contains="is cancelled")
    assert {tuple(email.to) for email in told} == {("admin@acme.test",), ("admin@bolt.test",)}
    with pytest.raises(ValidationError, match="already cancelled"):
        renewal_price_change_cancel(change=change, actor=voxel_admin, now=NOW)
    # A new change may be scheduled once the first is cancelled.
    assert schedule(voxel, voxel_admin, days=40).status == "scheduled"


def test_a_change_cannot_be_cancelled_on_its_date(voxel, voxel_admin, book):
    change = schedule(voxel, voxel_admin)
    with pytest.raises(ValidationError, match="can no longer be cancelled"):
        renewal_price_change_cancel(change=change, actor=voxel_admin, now=NOW + timedelta(days=30))


def test_only_the_resellers_admins_schedule(voxel, book, customer_admin):
    finance = UserFactory(account=voxel, role="reseller_finance")
    other_admin = UserFactory(account=reseller_account(), role="reseller_admin")
    for actor in (finance, other_admin, customer_admin):
        with pytest.raises(PermissionDenied):
            schedule(voxel, actor)


def test_the_price_list_page_schedules_shows_and_cancels(client, voxel, voxel_admin, book):
    client.force_login(voxel_admin)
    url = reverse("billing:renewal_price_change_schedule")
    soon = timezone.localdate() + timedelta(days=10)
    response = client.post(url, {"effective_on": soon.isoformat()}, follow=True)
    assert "at least 30 days" in response.content.decode()
    response = client.post(url, {"effective_on": "31/02/2027"}, follow=True)
    assert "enter a date" in response.content.decode()
    later = timezone.localdate() + timedelta(days=45)
    response = client.post(url, {"effective_on": later.isoformat()}, follow=True)
    page = response.content.decode()
    assert "renewals of 3 subscriptions" in page and "e-mailed 2 customers" in page
    assert later.isoformat() in page and "Scheduled" in page
    change = RenewalPriceChange.objects.get()
    cancel = reverse("catalog:renewal_price_change_cancel", args=[change.pk])
    assert "Cancelled the change" in client.post(cancel, follow=True).content.decode()
    change.refresh_from_db()
    assert change.status == "cancelled"


def test_customers_and_other_resellers_cannot_schedule_or_cancel(client, voxel, voxel_admin, book):
    change = schedule(voxel, voxel_admin, now=timezone.now())
    acme_admin = book["acme"].account.users.get(role="customer_admin")
    client.force_login(acme_admin)
    later = (timezone.localdate() + timedelta(days=60)).isoformat()
    url = reverse("billing:renewal_price_change_schedule")
    assert client.post(url, {"effective_on": later}).status_code == 403
    cancel = reverse("catalog:renewal_price_change_cancel", args=[change.pk])
    assert client.post(cancel).status_code == 403
    client.force_login(UserFactory(account=reseller_account(), role="reseller_admin"))
    assert client.post(cancel).status_code == 404
    change.refresh_from_db()
    assert change.status == "scheduled"


def test_the_page_and_the_service_agree_on_the_notice():
    from billing.services.repricing import NOTICE_DAYS
    from catalog.views_prices import RENEWAL_NOTICE_DAYS

    assert NOTICE_DAYS == RENEWAL_NOTICE_DAYS == 30


def test_a_new_price_is_never_below_the_wholesale_snapshot(voxel, voxel_admin, book):
    """The platform lowered its price since the sale: the reseller's list would now sell
    below what it pays for this subscription; the renewal price stops at its wholesale."""
    Subscription.objects.filter(pk=book["bolt"].pk).update(
        recurring_price=D("5.00"), wholesale_recurring_price=D("4.00")
    )
    change = schedule(voxel, voxel_admin)
    line = change.lines.get(subscription_id=book["bolt"].pk)
    assert line.new_recurring == D("4.00")
    renewal_price_changes_apply_due(now=NOW + timedelta(days=31))
    book["bolt"].refresh_from_db()
    assert book["bolt"].recurring_price == D("4.00")
