"""My numbers: the list and each number's page, for the owner's admin, a member (read only),
a stranger (404) and the other roles (refused)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import balance_for
from billing.services.capacity import capacity_add, number_channels
from billing.services.subscriptions import (
    subscription_cancel,
)
from inventory.choices import DIDStatus
from inventory.customer import did_users_assign
from inventory.models import DID
from inventory.services import did_transition
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import DIDFactory, NumberBlockFactory

pytestmark = pytest.mark.django_db

S = Subscription.Status
LIST = reverse("cart:my_numbers")


def rent(account, number=None, *, price="3.00", channels=2, block=None, **kw):
    """A number held by ``account`` with a monthly rental (its first month charged)."""
    fields = {"number": number} if number else {}
    if block is not None:
        fields["block"] = block
    did = held_did(account, **fields)
    return start(account, did=did, unit="month", price=price, channels=channels, **kw)


def page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def funded(customer):
    fund(customer, "200.00")
    return customer


@pytest.fixture
def admin_client(client, customer_admin):
    client.force_login(customer_admin)
    return client


@pytest.fixture
def member_client(client, customer_member):
    client.force_login(customer_member)
    return client


def url(name, sub):
    return reverse(f"cart:{name}", args=[sub.did_id])


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_the_accounts_numbers_with_their_rental(
    admin_client, funded, customer_admin, stranger
):
    fund(stranger.account, "50.00")
    rent(stranger.account, "+31205550999")  # another account's number
    rental = rent(funded, "+31205550001", price="3.00")
    rental.did.destination = "sip:desk@pbx.example.com"
    rental.did.save(update_fields=["destination"])
    did_users_assign(did=rental.did, actor=customer_admin, users=[customer_admin])
    rent(funded, "+31205550002", price="5.00")

    response = admin_client.get(LIST)

    assert response.status_code == 200
    text = page_text(response)
    assert "020 555 0001" in text and "+31 20 555 0001" in text
    assert "020 555 0002" in text
    assert "0999" not in text
    assert "sip:desk@pbx.example.com" in text
    assert "not set" in text  # the second number has no destination
    assert "Amsterdam, NL" in text
    renewal = timezone.localtime(rental.next_renewal_at)
    assert f"{renewal.day} {renewal:%b %Y}" in text
    assert "3.00 USD" in text and "5.00 USD" in text and "per month" in text
    assert str(customer_admin) in text
    assert "2 numbers" in text


def test_hold_status_says_why(admin_client, funded):
    unpaid = rent(funded, "+31205550001")
    Subscription.objects.filter(pk=unpaid.pk).update(
        status=S.HOLD, next_renewal_at=None, renewal_failed_at=timezone.now()
    )
    did_transition(did=unpaid.did, to_status=DIDStatus.HOLD, job="tests", reason="unpaid")
    package_hold = rent(funded, "+31205550002")
    did_transition(did=package_hold.did, to_status=DIDStatus.HOLD, job="tests", reason="package")

    text = page_text(admin_client.get(LIST))

    assert text.count("On hold — renewal unpaid") == 2  # the table and the phone cards
    assert text.count('text-bg-warning">On hold<') == 2
    detail = page_text(admin_client.get(url("my_number", unpaid)))
    assert "Top up your balance" in detail


def test_a_cancelled_number_shows_when_it_ends(admin_client, funded, customer_admin):
    rental = rent(funded, "+31205550001")
    subscription_cancel(subscription=rental, actor=customer_admin)
    end = timezone.localtime(rental.current_period_end)
    text = page_text(admin_client.get(LIST))
    assert f"ends on {end.day} {end:%b %Y}" in text
    assert "not renewed" in text


def test_released_numbers_are_not_listed(admin_client, funded):
    rental = rent(funded, "+31205550001")
    did_transition(did=rental.did, to_status=DIDStatus.HOLD, job="tests", reason="x")
    did_transition(did=rental.did, to_status=DIDStatus.IN_STOCK, job="tests", reason="x")
    assert "555 0001" not in page_text(admin_client.get(LIST))
    assert admin_client.get(url("my_number", rental)).status_code == 404


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("5550001", {"0001"}),
        ("020 555 0001", {"0001"}),
        ("+31 20 555 000", {"0001", "0002"}),
        ("0031205550002", {"0002"}),
        ("+3130", set()),
        ("0001", {"0001"}),
        ("Amsterdam", {"0001", "0002"}),  # no digits: no digit filter
    ],
)
def test_search_by_digits_national_or_international(admin_client, funded, query, found):
    rent(funded, "+31205550001")
    rent(funded, "+31205550002")
    text = page_text(admin_client.get(LIST, {"q": query}))
    shown = {tail for tail in ("0001", "0002") if f"020 555 {tail}" in text}
    assert shown == found


def test_status_filter(admin_client, funded, customer_admin):
    active = rent(funded, "+31205550001")
    held = rent(funded, "+31205550002")
    did_transition(did=held.did, to_status=DIDStatus.HOLD, job="tests", reason="x")
    ending = rent(funded, "+31205550003")
    subscription_cancel(subscription=ending, actor=customer_admin)

    def shown(status):
        text = page_text(admin_client.get(LIST, {"status": status}))
        return {tail for tail in ("0001", "0002", "0003") if f"020 555 {tail}" in text}

    assert shown("active") == {"0001", "0003"}
    assert shown("hold") == {"0002"}
    assert shown("ending") == {"0003"}
    assert shown("") == {"0001", "0002", "0003"}
    assert active.did.number  # the unfiltered list keeps every number


def test_htmx_search_answers_only_the_results(admin_client, funded):
    rent(funded, "+31205550001")
    response = admin_client.get(LIST, {"q": "0001"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="my-numbers-results">')
    assert "<html" not in body


def test_empty_state_points_to_the_catalog(admin_client, funded):
    text = page_text(admin_client.get(LIST))
    assert "You have no numbers yet" in text
    assert f'href="{reverse("catalog:coverage")}"' in text


def test_a_search_without_results_offers_to_clear_it(admin_client, funded):
    rent(funded, "+31205550001")
    text = page_text(admin_client.get(LIST, {"q": "999999"}))
    assert "None of your numbers matches" in text


def test_the_list_pages_by_25(admin_client, funded):
    block = NumberBlockFactory()
    for n in range(30):
        rent(funded, f"+312055501{n:02d}", block=block)
    first = page_text(admin_client.get(LIST))
    second = page_text(admin_client.get(LIST, {"page": 2}))
    assert "020 555 0100" in first and "020 555 0124" in first and "020 555 0125" not in first
    assert "020 555 0125" in second and "020 555 0129" in second and "020 555 0100" not in second
    assert "Page 2 of 2" in second


def test_list_query_count_is_flat(
    admin_client, funded, customer_admin, customer_member, django_assert_max_num_queries
):
    def fill(count, start_at):
        block = NumberBlockFactory(extra_channel_monthly_price=Decimal("1.00"))
        for n in range(count):
            rental = rent(funded, f"+3120555{start_at + n:04d}", block=block)
            did_users_assign(did=rental.did, actor=customer_admin, users=[customer_member])
            capacity_add(
                number_subscription=rental,
                extra_channels=1,
                actor=customer_admin,
                idempotency_key=f"capacity:{start_at + n}",
            )

    fill(2, 1000)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(LIST).status_code == 200
    fill(20, 2000)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin_client.get(LIST)
    assert "22 numbers" in page_text(response)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Who may see what -----------------------------------------------------------------------


def test_members_see_every_number_but_change_nothing(member_client, funded, customer_admin):
    rental = rent(funded, "+31205550001")
    assert "020 555 0001" in page_text(member_client.get(LIST))
    detail = member_client.get(url("my_number", rental))
    text = page_text(detail)
    assert detail.status_code == 200
    assert "Only the admins of" in text
    assert 'id="destination-form"' not in text and "Cancel number" not in text
    for name in ("my_number_destination", "my_number_users", "my_number_channels"):
        response = member_client.post(url(name, rental), {"destination": "+31205550100"})
        assert response.status_code == 403, name
    assert member_client.post(url("my_number_cancel", rental)).status_code == 403
    rental.refresh_from_db()
    assert rental.status == S.ACTIVE


def test_a_strangers_number_is_404_everywhere(client, funded, stranger):
    rental = rent(funded, "+31205550001")
    client.force_login(stranger)
    assert "555 0001" not in page_text(client.get(LIST))
    assert client.get(url("my_number", rental)).status_code == 404
    assert client.get(url("my_number_cancel", rental)).status_code == 404
    for name in ("my_number_destination", "my_number_users", "my_number_channels"):
        assert client.post(url(name, rental), {"channels": 9}).status_code == 404, name
    assert client.post(url("my_number_cancel", rental)).status_code == 404
    rental.refresh_from_db()
    rental.did.refresh_from_db()
    assert (rental.status, rental.did.destination) == (S.ACTIVE, "")


@pytest.mark.parametrize("role", ["platform_admin", "platform_finance"])
def test_other_roles_are_refused(client, funded, role, platform_admin):
    rental = rent(funded, "+31205550001")
    client.force_login(UserFactory(account=platform_admin.account, role=role))
    assert client.get(LIST).status_code == 403
    assert client.get(url("my_number", rental)).status_code == 403


@pytest.mark.parametrize("role", ["reseller_admin", "reseller_support", "reseller_finance"])
def test_a_reseller_sees_its_own_numbers_not_a_direct_customers(client, funded, role):
    """Resellers buy for themselves, so My numbers is theirs too; a direct customer's
    number is another tenant's: 404."""
    rental = rent(funded, "+31205550001")
    client.force_login(UserFactory(account=AccountFactory(kind="reseller"), role=role))
    assert client.get(LIST).status_code == 200
    assert client.get(url("my_number", rental)).status_code == 404


def test_the_navigation_marks_my_numbers_not_the_cart(admin_client, funded):
    text = admin_client.get(LIST).content.decode()
    assert re.search(r'class="nav-link active" href="/cart/numbers/"', text)
    assert not re.search(r'class="nav-link active" href="/cart/"', text)


# --- Destination and users ------------------------------------------------------------------


def test_admin_sets_the_destination_and_ring_timeout(admin_client, funded):
    rental = rent(funded, "+31205550001")
    response = admin_client.post(
        url("my_number_destination", rental),
        {"destination": " sip:office@pbx.example.com ", "ring": "timeout", "ring_timeout": "25"},
    )
    assert response.status_code == 302
    rental.did.refresh_from_db()
    assert (rental.did.destination, rental.did.ring_timeout) == ("sip:office@pbx.example.com", 25)
    text = page_text(admin_client.get(response.url))
    assert "Saved where calls to +31205550001 go" in text
    assert "for at most 25 seconds" in text

    admin_client.post(
        url("my_number_destination", rental),
        {"destination": "+31205550100", "ring": "forever", "ring_timeout": "25"},
    )
    rental.did.refresh_from_db()
    assert (rental.did.destination, rental.did.ring_timeout) == ("+31205550100", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"destination": "0205550100", "ring": "forever"}, "Enter an E.164 number"),
        ({"destination": "+31205550100", "ring": "timeout"}, "Ring timeout: enter 5–300"),
        ({"destination": "+31205550100", "ring": "timeout", "ring_timeout": "3"}, "at least 5"),
        ({"destination": "+31205550100", "ring": "timeout", "ring_timeout": "x"}, "whole number"),
        ({"destination": "+31205550100"}, "Ring: choose"),
    ],
)
def test_bad_destination_input_is_explained_and_nothing_saved(admin_client, funded, data, message):
    rental = rent(funded, "+31205550001")
    response = admin_client.post(url("my_number_destination", rental), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    rental.did.refresh_from_db()
    assert (rental.did.destination, rental.did.ring_timeout) == ("", None)


def test_admin_assigns_users_of_the_account_only(
    admin_client, funded, customer_admin, customer_member, stranger
):
    rental = rent(funded, "+31205550001")
    response = admin_client.post(url("my_number_users", rental), {"users": [customer_member.pk]})
    assert response.status_code == 302
    assert list(rental.did.assigned_users.all()) == [customer_member]

    response = admin_client.post(
        url("my_number_users", rental), {"users": [customer_member.pk, stranger.pk]}
    )
    assert response.status_code == 200
    assert "is not a user of your account" in response.content.decode()
    assert list(rental.did.assigned_users.all()) == [customer_member]
    assert str(stranger) not in page_text(admin_client.get(url("my_number", rental)))


# --- Channels -------------------------------------------------------------------------------

APRIL = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture
def priced_block():
    return NumberBlockFactory(extra_channel_monthly_price=Decimal("1.50"), channels_included=2)


def test_more_channels_are_confirmed_with_the_prorata_price_then_bought(
    admin_client, funded, priced_block
):
    with time_machine.travel(APRIL, tick=False) as clock:
        rental = rent(funded, "+31205550001", block=priced_block)
        clock.move_to(APRIL + timedelta(days=20))
        page = admin_client.post(url("my_number_channels", rental), {"channels": "4"})
        text = page_text(page)
        assert page.status_code == 200
        assert "Add 2 channels to +31 20 555 0001?" in text
        assert "1.00 USD" in text and "0.19 USD" in text and "1.19 USD" in text  # DE VAT
        assert "3.00 USD + VAT" in text
        assert not Subscription.objects.filter(kind="capacity").exists()  # nothing yet
        token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
        before = balance_for(funded)

        confirm = {"channels": "4", "confirm": "True", "token": token}
        done = admin_client.post(url("my_number_channels", rental), confirm)
        again = admin_client.post(url("my_number_channels", rental), confirm)  # double click

    assert done.status_code == 302
    assert again.status_code in (200, 302)
    assert Subscription.objects.filter(kind="capacity").count() == 1
    assert balance_for(funded) == before - Decimal("1.19")
    assert number_channels(rental).total == 4
    assert "2 channels added to +31205550001: 1.19 USD charged" in page_text(
        admin_client.get(done.url)
    )


def test_more_channels_without_the_balance_show_the_shortfall_and_top_up_link(
    client, customer, customer_admin, priced_block
):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "3.57")
        rental = rent(customer, "+31205550001", block=priced_block)
        clock.move_to(APRIL + timedelta(days=20))
        client.force_login(customer_admin)
        confirm = {
            "channels": "4",
            "confirm": "True",
            "token": "6f1c2c1e-8a1e-4f0e-9d55-3f1c7f0c9a11",
        }
        response = client.post(url("my_number_channels", rental), confirm)
    text = page_text(response)
    assert response.status_code == 200
    assert "Your balance is too low" in text
    assert "0.00 USD" in text and "1.19 USD" in text
    assert reverse("billing:balance") in text
    assert not Subscription.objects.filter(kind="capacity").exists()


def test_fewer_channels_are_confirmed_then_take_effect_at_the_period_end(
    admin_client, funded, customer_admin, priced_block
):
    rental = rent(funded, "+31205550001", block=priced_block)
    capacity = capacity_add(
        number_subscription=rental,
        extra_channels=3,
        actor=customer_admin,
        idempotency_key="capacity:three",
    )
    page = admin_client.post(url("my_number_channels", rental), {"channels": "4"})
    text = page_text(page)
    assert "cannot be reached exactly" in text and "will have <strong>2</strong>" in text
    capacity.refresh_from_db()
    assert capacity.status == S.ACTIVE

    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    done = admin_client.post(
        url("my_number_channels", rental), {"channels": "4", "confirm": "True", "token": token}
    )
    assert done.status_code == 302
    capacity.refresh_from_db()
    assert capacity.status == S.CANCELLED
    end = timezone.localtime(rental.current_period_end)
    detail = page_text(admin_client.get(done.url))
    assert f"keeps 5 channels until {end.day} {end:%b %Y}, then 2" in detail


@pytest.mark.parametrize(("channels", "message"), [("0", "at least 1"), ("1", "cannot go below 2")])
def test_bad_channel_counts_are_explained(admin_client, funded, channels, message):
    rental = rent(funded, "+31205550001")
    response = admin_client.post(url("my_number_channels", rental), {"channels": channels})
    assert response.status_code == 200
    assert message in response.content.decode()


# --- Cancel ---------------------------------------------------------------------------------


def test_cancel_asks_first_with_the_paid_period_then_cancels(admin_client, funded, customer_admin):
    rental = rent(funded, "+31205550001")
    capacity = capacity_add(
        number_subscription=rental,
        extra_channels=1,
        actor=customer_admin,
        idempotency_key="capacity:one",
    )
    end = timezone.localtime(rental.current_period_end)
    page = page_text(admin_client.get(url("my_number_cancel", rental)))
    assert f"The paid period runs to <strong>{end.day} {end:%b %Y}" in page
    assert "then released" in page
    rental.refresh_from_db()
    assert rental.status == S.ACTIVE  # asking changes nothing

    response = admin_client.post(url("my_number_cancel", rental))
    assert response.status_code == 302
    rental.refresh_from_db()
    capacity.refresh_from_db()
    assert (rental.status, capacity.status) == (S.CANCELLED, S.CANCELLED)
    assert DID.objects.get(pk=rental.did_id).status == DIDStatus.ACTIVE
    text = page_text(admin_client.get(response.url))
    assert text.count("keeps working until") == 1  # one banner, no second message
    assert text.count('role="status"') + text.count('role="alert"') == 1
    assert "Keep this number" in text


def test_keep_this_number_undoes_the_cancellation(admin_client, funded, customer_admin):
    rental = rent(funded, "+31205550001")
    capacity = capacity_add(
        number_subscription=rental,
        extra_channels=1,
        actor=customer_admin,
        idempotency_key="capacity:one",
    )
    admin_client.post(url("my_number_cancel", rental))

    response = admin_client.post(url("my_number_keep", rental))

    assert response.status_code == 302 and response.url == url("my_number", rental)
    rental.refresh_from_db()
    capacity.refresh_from_db()
    assert (rental.status, capacity.status) == (S.ACTIVE, S.ACTIVE)
    assert rental.next_renewal_at == rental.current_period_end
    text = page_text(admin_client.get(response.url))
    assert "is kept: it renews on" in text
    assert 'id="cancelled-banner"' not in text and "Keep this number" not in text
    again = admin_client.post(url("my_number_keep", rental))
    assert "is not cancelled" in page_text(admin_client.get(again.url))


def test_a_cancelled_number_cannot_be_kept_after_its_period(admin_client, funded, customer_admin):
    rental = rent(funded, "+31205550001")
    subscription_cancel(subscription=rental, actor=customer_admin)
    now = timezone.now()  # the paid period is over; the end job has not run yet
    Subscription.objects.filter(pk=rental.pk).update(
        current_period_start=now - timedelta(days=30), current_period_end=now
    )
    response = admin_client.post(url("my_number_keep", rental))
    assert "can no longer be kept" in page_text(admin_client.get(response.url))
    rental.refresh_from_db()
    assert rental.status == S.CANCELLED


def test_only_the_accounts_admins_may_keep_a_number(
    client, member_client, funded, customer_admin, stranger
):
    rental = rent(funded, "+31205550001")
    subscription_cancel(subscription=rental, actor=customer_admin)
    assert member_client.post(url("my_number_keep", rental)).status_code == 403
    assert "Keep this number" not in page_text(member_client.get(url("my_number", rental)))
    client.force_login(stranger)
    assert client.post(url("my_number_keep", rental)).status_code == 404
    rental.refresh_from_db()
    assert rental.status == S.CANCELLED


def test_cancelling_a_held_number_releases_it_now(admin_client, funded):
    rental = rent(funded, "+31205550001")
    Subscription.objects.filter(pk=rental.pk).update(
        status=S.HOLD, next_renewal_at=None, renewal_failed_at=timezone.now()
    )
    did_transition(did=rental.did, to_status=DIDStatus.HOLD, job="tests", reason="unpaid")
    assert "releases it <strong>now</strong>" in page_text(
        admin_client.get(url("my_number_cancel", rental))
    )
    response = admin_client.post(url("my_number_cancel", rental))
    assert response.url == LIST
    assert DID.objects.get(pk=rental.did_id).owner is None


def test_a_number_without_a_rental_has_nothing_to_cancel(admin_client, funded):
    did = did_transition(
        did=DIDFactory(number="+31205550001"),
        to_status=DIDStatus.ACTIVE,
        owner=funded,
        job="tests",
        reason="assigned by an admin",
    )
    text = page_text(admin_client.get(reverse("cart:my_number_cancel", args=[did.pk])))
    assert "Nothing to cancel" in text
    response = admin_client.post(reverse("cart:my_number_cancel", args=[did.pk]))
    assert "has no rental left to cancel" in page_text(response)
