"""Check before you buy, orders, the confirmation e-mail and My numbers for numbers whose
requirement needs a registration (the Paris block of ``tests/compliance/conftest.py``)."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Subscription
from billing.selectors import balance_for, balance_mismatches
from billing.services.capacity import capacity_add, capacity_reduce, number_rental_cancel
from cart import services as cart_services
from cart.models import CartItem
from cart.orders import _render_confirmation, order_place
from compliance.models import NumberRegistration, Requirement, RequirementAgreement
from compliance.services import agreements_record
from compliance.services.registrations import (
    number_registration_cancel,
    submission_approve,
    submission_get_or_create,
    submission_submit,
)
from inventory.choices import DIDStatus
from inventory.models import DID
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.compliance import conftest as compliance_fixtures
from tests.compliance.conftest import buy
from tests.compliance.factories import AddressFactory, DocumentFactory, IdentityFactory
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# The registration fixtures (a Paris block needing one, a compliance officer), shared.
paris = compliance_fixtures.paris
paris_requirement = compliance_fixtures.paris_requirement
compliance_officer = compliance_fixtures.compliance_officer

PARIS_1, PARIS_2 = "+33155500000", "+33155500001"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = (
    "Numbers awaiting registration are charged now; their first period starts on approval, "
    "so no paid day is lost while we review it. They are not routed until then. If it is not "
    "approved within 30 days, the number is cancelled and refunded in full."
)


def agreed_all():
    return {r.pk: r.version for r in Requirement.objects.filter(active=True)}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def buyer(customer_admin, paris):
    fund(customer_admin.account, "100.00")
    return customer_admin


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client


def submit(user, requirement):
    account = user.account
    submission = submission_get_or_create(account=account, requirement=requirement, actor=user)
    return submission_submit(
        submission=submission,
        actor=user,
        identity=IdentityFactory(account=account),
        address=AddressFactory(account=account, city="Paris", country="FR", postal_code="75001"),
        documents=[
            DocumentFactory(account=account, kind="identity"),
            DocumentFactory(account=account, kind="address"),
        ],
    )


# --- Check before you buy ---------------------------------------------------------------------


def test_checkout_says_each_number_is_sold_awaiting_and_what_to_provide(buyer_client, buyer):
    cart_services.cart_add_numbers(user=buyer, numbers=[PARIS_1])
    page = text(buyer_client.get(reverse("cart:checkout")))
    assert (
        "Sold awaiting registration: provide the end user's identity (a person or a business) "
        "with its ID or passport number, an address in Paris, 1 identity document and 1 proof "
        "of address within 30 days"
    ) in page.replace("&#x27;", "'")
    assert POLICY in page
    assert "Registered: goes live at once" not in page
    assert 'id="registration-needs-' in page


def test_checkout_under_review_says_so(buyer_client, buyer, paris_requirement):
    submit(buyer, paris_requirement)
    cart_services.cart_add_numbers(user=buyer, numbers=[PARIS_1])
    page = text(buyer_client.get(reverse("cart:checkout")))
    assert (
        "yours is under review and covers it once approved "
        "(a number is never cancelled while we review)" in page
    )
    assert POLICY in page  # still sold awaiting until the approval


def test_checkout_after_approval_goes_live_at_once_without_the_policy(
    buyer_client, buyer, paris_requirement, compliance_officer
):
    submission_approve(submission=submit(buyer, paris_requirement), actor=compliance_officer)
    cart_services.cart_add_numbers(user=buyer, numbers=[PARIS_1])
    page = text(buyer_client.get(reverse("cart:checkout")))
    assert "Registered: goes live at once" in page
    assert "Your registration for this requirement is approved" in page
    assert "Numbers awaiting registration are charged now" not in page
    assert "Sold awaiting registration" not in page


def test_checkout_of_a_number_without_registration_shows_no_outlook(client, shopper, blocks):
    cart_services.cart_add_numbers(user=shopper, numbers=["+4989555000"])
    client.force_login(shopper)
    page = text(client.get(reverse("cart:checkout")))
    assert "+49 89" in page or "München" in page
    assert "registration-outlook" not in page and "registration-policy" not in page


@pytest.fixture
def shopper(customer_admin):
    fund(customer_admin.account, "100.00")
    return customer_admin


def test_reseller_buy_page_checks_its_customer_before_buying(paris, paris_requirement):
    reseller = AccountFactory(kind="reseller", name="Reseller A")
    customer = AccountFactory(parent=reseller, name="Client Paris")
    fund(customer, "50.00")
    client_admin = UserFactory(account=customer, role="customer_admin")
    seller = UserFactory(account=reseller, role="reseller_admin")
    from django.test import Client

    browser = Client()
    browser.force_login(seller)
    url = reverse("resellers:buy", args=[customer.pk])
    query = f"?block={paris.pk}&quantity=1&channels=2&billing_period=monthly"
    page = text(browser.get(url + query))
    assert "Sold awaiting registration: provide" in page
    assert POLICY in page
    assert "Client Paris's own users provide the registration" in page.replace("&#x27;", "'")
    submit(client_admin, paris_requirement)
    page = text(browser.get(url + query))
    assert "Client Paris’s is under review" in page


# --- Orders and the confirmation e-mail -------------------------------------------------------


def test_order_marks_awaiting_items_with_deadline_and_link(buyer_client, buyer):
    with time_machine.travel(START, tick=False):
        order = buy(buyer, PARIS_1)
    page = text(buyer_client.get(reverse("cart:order", args=[order.pk])))
    assert "Awaiting registration" in page
    assert "Provide the registration by 31 Dec 2026" in page
    assert f'href="{reverse("compliance:registrations")}"' in page
    assert "issued when the registration is approved" in page
    complete = text(buyer_client.get(reverse("cart:order_complete", args=[order.pk])))
    assert "1 number awaits registration." in complete
    assert "the first period starts then and is invoiced then" in complete


def test_order_list_counts_numbers_awaiting_registration(buyer_client, buyer):
    order = buy(buyer, PARIS_1, PARIS_2)
    page = text(buyer_client.get(reverse("cart:orders")))
    assert order.reference in page and "2 awaiting registration" in page
    registration = NumberRegistration.objects.filter(order_id=order.pk).first()
    number_registration_cancel(registration=registration, reason="gave up", actor=buyer)
    assert "1 awaiting registration" in text(buyer_client.get(reverse("cart:orders")))


def test_order_shows_a_cancelled_item_with_its_refund(buyer_client, buyer):
    order = buy(buyer, PARIS_1)
    registration = NumberRegistration.objects.get(order_id=order.pk)
    number_registration_cancel(registration=registration, reason="deadline passed", job="test")
    page = text(buyer_client.get(reverse("cart:order", args=[order.pk])))
    # 2.00 setup + 4.00 month, 19 % VAT (a German buyer): 7.14 back.
    currency = buyer.account.currency
    assert f"Cancelled: registration not completed — refunded 7.14 {currency}" in page
    assert "Provide it" not in page


def test_confirmation_email_marks_awaiting_items_and_names_no_invoice(buyer):
    with time_machine.travel(START, tick=False):
        order = buy(buyer, PARIS_1)
    email = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert order.invoice is None
    assert "Invoice:" not in email.text
    assert (
        "AWAITING REGISTRATION: not routed until your registration is approved; provide it "
        "by 31 Dec 2026 or the number is cancelled and refunded in full."
    ) in email.text
    assert "their first period starts on approval and is invoiced then" in email.text
    link = re.search(r"Provide the registration: (\S+)", email.text).group(1)
    assert link.endswith(reverse("compliance:registrations"))
    assert "Awaiting registration" in email.html
    assert reverse("compliance:registrations") in email.html


def test_an_order_placed_for_a_customer_sells_awaiting_and_names_who_provides(paris):
    """A reseller's user buys on its customer's behalf, agreeing to the requirement for it
    (recorded as theirs); the e-mail says the customer's users provide the registration
    (the link would open the reseller's own)."""
    reseller = AccountFactory(kind="reseller", name="Reseller A")
    customer = AccountFactory(parent=reseller, name="Client Paris")
    fund(customer, "50.00")
    fund(reseller, "50.00")
    seller = UserFactory(account=reseller, role="reseller_support")
    block = DID.objects.get(number=PARIS_1).block
    order = order_place(
        user=seller,
        token="on-behalf-1",
        for_account=customer,
        items=[CartItem(block=block, quantity=1, channels=2, billing_period="monthly")],
        agreed={block.requirement_id: block.requirement.version},
    )
    (item,) = order.items.all()
    assert (item.status, item.did.status) == ("completed", DIDStatus.AWAITING_REGISTRATION)
    agreement = RequirementAgreement.objects.get(order_id=order.pk)
    assert (agreement.account, agreement.user) == (customer, seller)
    plain, html = _render_confirmation(order)
    assert "AWAITING REGISTRATION" in plain
    assert "Client Paris's own users provide the registration from their portal." in plain
    assert "Provide the registration:" not in plain
    assert "Client Paris’s own users provide the registration" in html


def test_a_stranger_cannot_agree_for_another_account(paris, customer, stranger):
    requirement = DID.objects.get(number=PARIS_1).block.requirement
    with pytest.raises(ValidationError, match="buyer's own account"):
        agreements_record(
            user=stranger,
            account=customer,
            requirements=[requirement],
            order_id=None,
            ip_address=None,
        )


def test_confirmation_email_of_a_mixed_order_names_the_invoice(buyer, blocks):
    cart_services.cart_add_numbers(user=buyer, numbers=["+4989555000"])
    order = buy(buyer, PARIS_1)
    email = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert order.invoice is not None
    assert f"Invoice: {order.invoice.number}" in email.text
    assert email.text.count("AWAITING REGISTRATION") == 1


# --- My numbers ---------------------------------------------------------------------------------


def test_my_numbers_lists_and_filters_awaiting_numbers(buyer_client, buyer, blocks):
    with time_machine.travel(START, tick=False):
        cart_services.cart_add_numbers(user=buyer, numbers=["+4989555000"])
        buy(buyer, PARIS_1)
    url = reverse("cart:my_numbers")
    page = text(buyer_client.get(url))
    assert "Awaiting registration" in page and "register by 31 Dec 2026" in page
    assert "not routed until approved" in page
    awaiting = text(buyer_client.get(url + "?status=awaiting_registration"))
    assert "+33 1 55 50 00 00" in awaiting and "+49 89 555000" not in awaiting
    active = text(buyer_client.get(url + "?status=active"))
    assert "+33 1 55 50 00 00" not in active and "+49 89 555000" in active


def test_number_page_of_an_awaiting_number(buyer_client, buyer):
    with time_machine.travel(START, tick=False):
        buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    page = text(buyer_client.get(reverse("cart:my_number", args=[did.pk])))
    assert "Awaiting registration: not routed until approved" in page
    assert "31 Dec 2026, 09:00" in page
    assert 'id="provide-registration"' in page
    assert "Channels can be changed once the number’s registration is approved." in page
    assert 'id="channels-form"' not in page
    assert "Cancel and refund…" in page
    assert "Cancel number…" not in page


def test_cancelling_an_awaiting_number_confirms_then_refunds_in_full(buyer_client, buyer):
    buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    url = reverse("cart:my_number_cancel", args=[did.pk])
    confirm = text(buyer_client.get(url))
    currency = buyer.account.currency
    assert f'refunds <strong id="refund-amount">7.14 {currency}</strong> to your balance' in confirm
    assert balance_for(buyer.account) == Decimal("92.86")  # nothing done by looking
    response = buyer_client.post(url, follow=True)
    assert f"cancelled and released: 7.14 {currency} refunded" in text(response)
    did.refresh_from_db()
    assert (did.status, did.owner) == (DIDStatus.IN_STOCK, None)
    assert balance_for(buyer.account) == Decimal("100.00")
    assert NumberRegistration.objects.get(did=did).status == "cancelled"
    assert not balance_mismatches()
    # A second POST (a double click) cancels nothing more and says so.
    again = buyer_client.post(url)
    assert again.status_code == 404  # no longer one of the account's numbers


def test_awaiting_number_cancel_is_404_for_a_stranger_and_refused_to_the_reseller(
    client, buyer, stranger, paris
):
    buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    client.force_login(stranger)
    url = reverse("cart:my_number_cancel", args=[did.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert DID.objects.get(pk=did.pk).status == DIDStatus.AWAITING_REGISTRATION


def test_reseller_acting_for_its_customer_cannot_cancel_an_awaiting_number(client, paris):
    reseller = AccountFactory(kind="reseller", name="Reseller A")
    customer = AccountFactory(parent=reseller, name="Client Paris")
    fund(customer, "50.00")
    fund(reseller, "50.00")
    owner = UserFactory(account=customer, role="customer_admin")
    buy(owner, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    client.force_login(UserFactory(account=reseller, role="reseller_admin"))
    page = text(client.get(reverse("cart:my_number", args=[did.pk])))
    assert "Client Paris’s own users provide the registration" in page
    assert "Cancel and refund" not in page
    assert client.post(reverse("cart:my_number_cancel", args=[did.pk])).status_code == 403
    assert DID.objects.get(pk=did.pk).status == DIDStatus.AWAITING_REGISTRATION
    # Its numbers page lists the number with its status (and counts it among the customer's).
    listing = text(client.get(reverse("resellers:numbers", args=[customer.pk])))
    assert "+33155500000" in listing and "Awaiting registration" in listing


# --- Capacity ---------------------------------------------------------------------------------


def test_capacity_refuses_channels_and_cancel_on_an_awaiting_number(buyer):
    order = buy(buyer, PARIS_1)
    rental = order.items.get().subscription
    assert rental.status == Subscription.Status.PENDING
    with pytest.raises(ValidationError) as refused:
        capacity_add(
            number_subscription=rental, extra_channels=1, actor=buyer, idempotency_key="k1"
        )
    assert refused.value.messages == [
        "+33155500000 is awaiting registration: channels can be added once its registration "
        "is approved."
    ]
    with pytest.raises(ValidationError, match="awaiting registration"):
        capacity_reduce(number_subscription=rental, channels=2, actor=buyer)
    with pytest.raises(ValidationError, match="cancel it from its registration"):
        number_rental_cancel(number_subscription=rental, actor=buyer)
    rental.refresh_from_db()
    assert rental.status == Subscription.Status.PENDING
    assert not Subscription.objects.filter(kind="capacity").exists()


def test_channels_form_posted_to_an_awaiting_number_shows_the_reason(buyer_client, buyer):
    buy(buyer, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    response = buyer_client.post(
        reverse("cart:my_number_channels", args=[did.pk]), {"channels": "4"}
    )
    assert response.status_code == 200
    assert "is awaiting registration: channels can be added once its registration is approved" in (
        text(response)
    )
    assert not Subscription.objects.filter(kind="capacity").exists()


def test_approval_turns_the_awaiting_row_active(
    buyer_client, buyer, paris_requirement, compliance_officer
):
    buy(buyer, PARIS_1)
    submission_approve(submission=submit(buyer, paris_requirement), actor=compliance_officer)
    page = text(buyer_client.get(reverse("cart:my_numbers") + "?status=awaiting_registration"))
    assert "+33 1 55 50 00 00" not in page
    page = text(buyer_client.get(reverse("cart:my_numbers")))
    assert "status-awaiting" not in page and "Active" in page


# --- Catalog and the public requirement page --------------------------------------------------


def test_requirement_page_lists_what_is_needed(client, paris_requirement):
    page = text(client.get(reverse("compliance:requirement", args=[paris_requirement.pk])))
    assert (
        "The end user's identity (a person or a business) with its ID or passport number"
        in page.replace("&#x27;", "'")
    )
    assert "An address in Paris" in page
    assert "1 identity document<br>1 proof of address" in page
    assert "Within 30 days of buying" in page
    assert "sold awaiting registration" in page


def test_catalog_badge_says_registration_is_required(client, paris):
    page = text(client.get(reverse("catalog:country", args=["fr"])))
    assert "Registration required" in page
    assert "Documents required" not in page
