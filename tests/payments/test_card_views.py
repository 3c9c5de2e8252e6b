"""The customer's card top-up pages: the amount form, the return and cancel pages, the
checkout's "pay the shortfall by card", and the balance page's card entry."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Balance
from cart.services import cart_add_numbers, cart_holds_extend
from inventory.models import DID
from payments.models import CardPayment
from payments.services import card
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import DIDFactory

pytestmark = pytest.mark.postgres

TOPUP = "/payments/card/"
Status = CardPayment.Status


@pytest.fixture
def buyer(client, fake_stripe, customer_admin):
    client.force_login(customer_admin)
    return customer_admin


def post(client, **data):
    data.setdefault("token", str(uuid.uuid4()))
    return client.post(TOPUP, data)


def session_requests(fake):
    return [r for r in fake.requests if r["path"] == "/v1/checkout/sessions"]


def paid(fake, payment):
    """The payment page's "Pay", with its webhook's effect (the one credit path)."""
    session = fake.pay(payment.session_id, deliver=False)
    card.card_payment_credit(
        payment_id=payment.pk,
        amount_cents=session["amount_total"],
        currency=session["currency"],
        payment_intent_id=session["payment_intent"],
    )
    payment.refresh_from_db()
    return payment


# --- the form ---------------------------------------------------------------------------------


def test_page_offers_round_amounts_from_the_first_top_up_minimum(client, buyer, fake_stripe):
    response = client.get(TOPUP)
    assert response.status_code == 200
    text = response.content.decode()
    assert "At least 50.00 USD on a first top-up, at most 10000.00 USD" in text
    for amount in ("50.00", "100.00", "250.00"):
        assert f'name="preset" value="{amount}"' in text
    assert "Save this card for automatic top-ups" in text
    # The form posts here and is sent on to the payment page: the policy allows that.
    policy = response["Content-Security-Policy"]
    form_action = next(p for p in policy.split(";") if "form-action" in p).split()
    assert form_action[1:] == ["'self'", fake_stripe.url]


def test_a_typed_amount_opens_a_payment_and_sends_the_customer_to_the_payment_page(
    client, buyer, fake_stripe
):
    response = post(client, amount="75", save_card="on")
    payment = CardPayment.objects.get(account=buyer.account)
    assert response.status_code == 303
    assert response["Location"] == fake_stripe.sessions[payment.session_id]["url"]
    assert (payment.amount, payment.currency, payment.status) == (Decimal("75.00"), "USD", "open")
    assert payment.save_card and payment.created_by == buyer
    assert payment.return_to == CardPayment.ReturnTo.BALANCE
    (sent,) = session_requests(fake_stripe)
    assert sent["form"]["success_url"] == f"http://testserver/payments/card/{payment.pk}/return/"
    assert sent["form"]["cancel_url"] == f"http://testserver/payments/card/{payment.pk}/canceled/"


def test_amount_and_currency_sent_to_stripe_are_the_servers(client, buyer, fake_stripe):
    """Whatever else the browser posts (a currency, an account, a unit amount, return URLs),
    Stripe is asked for the amount of the form, in the account's currency."""
    other = AccountFactory(kind="customer")
    response = post(
        client,
        preset="60",
        amount="9999",
        currency="eur",
        account=other.pk,
        unit_amount="1",
        success_url="https://evil.example/",
        cancel_url="https://evil.example/",
        return_to="checkout",
    )
    assert response.status_code == 303
    (sent,) = session_requests(fake_stripe)
    (item,) = sent["form"]["line_items"]
    assert item["price_data"]["unit_amount"] == "6000"  # the preset button's amount
    assert item["price_data"]["currency"] == "usd"
    payment = CardPayment.objects.get()
    assert payment.account == buyer.account
    assert sent["form"]["metadata"] == {
        "payment_id": str(payment.pk),
        "account_id": str(buyer.account_id),
    }
    assert "evil" not in sent["form"]["success_url"] + sent["form"]["cancel_url"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("49.99", "The least you can pay by card is 50.00 USD."),
        ("-5", "The least you can pay by card is 50.00 USD."),
        ("0", "The least you can pay by card is 50.00 USD."),
        ("10000.01", "The most you can pay by card at once is 10000.00 USD."),
        ("1e9", "The most you can pay by card at once is 10000.00 USD."),
        ("abc", "Enter a number."),
        ("\x00", "Enter a number."),
        ("NaN", "Enter a number."),
        ("Infinity", "Enter a number."),
        ("50.001", "Ensure that there are no more than 2 decimal places."),
        ("", "Enter the amount to pay."),
    ],
)
def test_amounts_out_of_bounds_or_odd_are_refused_by_name(
    client, buyer, fake_stripe, amount, message
):
    response = post(client, amount=amount)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CardPayment.objects.exists()
    assert not session_requests(fake_stripe)


@pytest.mark.parametrize("preset", ["abc", "\x00", "1e9", "-5"])
def test_an_odd_preset_is_refused_too(client, buyer, preset):
    response = post(client, preset=preset, amount="75")
    assert response.status_code == 400
    assert not CardPayment.objects.exists()


def test_after_a_first_top_up_the_minimum_is_one(client, buyer, fake_stripe):
    fund(buyer.account, "10.00")
    assert "At least 1.00 USD, at most" in client.get(TOPUP).content.decode()
    assert post(client, amount="0.99").status_code == 400
    assert post(client, amount="1").status_code == 303


@pytest.mark.parametrize("token", [None, "", "not-a-uuid", "\x00"])
def test_a_form_without_its_token_opens_nothing(client, buyer, token):
    data = {"amount": "75"}
    if token is not None:
        data["token"] = token
    response = client.post(TOPUP, data)
    assert response.status_code == 400
    assert "This form is out of date: reload the page and try again." in response.content.decode()
    assert not CardPayment.objects.exists()


def test_a_double_submit_opens_one_payment(client, buyer, fake_stripe):
    token = str(uuid.uuid4())
    first = post(client, amount="75", token=token)
    second = post(client, amount="75", token=token)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert CardPayment.objects.count() == 1
    assert len(session_requests(fake_stripe)) == 1


def test_unpaid_payments_are_limited_per_hour(client, buyer, settings):
    settings.CARD_PAYMENTS_UNPAID_PER_HOUR = 3
    for _ in range(3):
        assert post(client, amount="60").status_code == 303
    response = post(client, amount="60")
    assert response.status_code == 400
    assert "3 card payments were started for this account in the last hour and not paid" in (
        response.content.decode()
    )
    assert CardPayment.objects.count() == 3
    # An hour on, the account may try again.
    CardPayment.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert post(client, amount="60").status_code == 303


def test_paid_payments_do_not_count_against_the_limit(client, buyer, fake_stripe, settings):
    settings.CARD_PAYMENTS_UNPAID_PER_HOUR = 1
    post(client, amount="60")
    paid(fake_stripe, CardPayment.objects.get())
    assert post(client, amount="60").status_code == 303


def test_a_provider_refusal_is_a_message_not_an_error_page(client, buyer, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_not_the_fakes"  # Stripe answers 401
    response = post(client, amount="75")
    assert response.status_code == 400
    assert "The card processor refused the request" in response.content.decode()
    payment = CardPayment.objects.get()
    assert payment.status == Status.FAILED


def test_an_unreachable_provider_is_a_message_too(client, buyer, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = post(client, amount="75")
    assert response.status_code == 400
    assert "could not be reached" in response.content.decode()


# --- who may pay --------------------------------------------------------------------------------


def test_roles_that_do_not_fund_the_balance_are_refused(client, fake_stripe, customer):
    member = UserFactory(account=customer, role="customer_member", may_buy=False)
    finance = UserFactory(account=platform(), role="platform_finance")
    for user in (member, finance):
        client.force_login(user)
        assert client.get(TOPUP).status_code == 403
        assert post(client, amount="75").status_code == 403
    assert not CardPayment.objects.exists()
    client.logout()
    assert client.get(TOPUP).status_code == 302  # to sign in


def test_a_member_allowed_to_buy_may_pay(client, fake_stripe, customer):
    client.force_login(UserFactory(account=customer, role="customer_member", may_buy=True))
    assert post(client, amount="75").status_code == 303


def test_without_keys_card_payment_is_hidden(client, buyer, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert client.get(TOPUP).status_code == 404
    assert post(client, amount="75").status_code == 404
    balance_page = client.get(reverse("billing:balance")).content.decode()
    assert "Pay by card" not in balance_page and "Bank transfer" in balance_page


def test_a_resellers_customer_pays_by_card_only_with_the_resellers_keys(client, db, fake_stripe):
    """The platform's keys are set; the reseller has none of its own."""
    reseller = AccountFactory(kind="reseller")
    client.force_login(
        UserFactory(account=AccountFactory(kind="customer", parent=reseller), role="customer_admin")
    )
    assert client.get(TOPUP).status_code == 404
    assert "Pay by card" not in client.get(reverse("billing:balance")).content.decode()


# --- coming back --------------------------------------------------------------------------------


@pytest.fixture
def opened(client, buyer):
    post(client, amount="75")
    return CardPayment.objects.get()


def test_return_page_waits_for_the_webhook_and_refreshes_itself(client, opened):
    response = client.get(f"/payments/card/{opened.pk}/return/")
    text = response.content.decode()
    assert "Payment received — your balance will show it in a moment" in text
    assert f'hx-get="/payments/card/{opened.pk}/status/"' in text
    assert 'hx-trigger="every 2s"' in text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in text
    fragment = client.get(f"/payments/card/{opened.pk}/status/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "HX-Refresh" not in fragment
    assert "Waiting for the card processor" in fragment.content.decode()


def test_once_paid_the_status_reloads_the_page_which_shows_the_credit(client, opened, fake_stripe):
    fund(opened.account, "5.00")
    paid(fake_stripe, opened)
    fragment = client.get(f"/payments/card/{opened.pk}/status/", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"
    text = client.get(f"/payments/card/{opened.pk}/return/").content.decode()
    assert "Credited: <span" in text
    assert "75.00 USD</span>, balance now <span" in text and "80.00 USD" in text
    assert "http-equiv" not in text  # a top-up of the balance page goes nowhere by itself
    assert "Back to checkout" not in text


def test_a_payment_for_checkout_goes_back_to_checkout_once_paid(client, buyer, fake_stripe):
    post(client, amount="75", return_to="checkout")
    payment = paid(fake_stripe, CardPayment.objects.get())
    text = client.get(f"/payments/card/{payment.pk}/return/").content.decode()
    assert '<meta http-equiv="refresh" content="5;url=/cart/checkout/">' in text
    assert 'href="/cart/checkout/" id="back-to-checkout"' in text


@pytest.mark.parametrize(
    ("status", "message", "shown"),
    [
        (Status.EXPIRED, "", "The payment page was not completed in time"),
        (Status.FAILED, "Your card was declined.", "Your card was declined."),
    ],
)
def test_closed_payments_say_why_and_offer_to_try_again(client, opened, status, message, shown):
    card.card_payment_close(payment_id=opened.pk, status=status, message=message)
    text = client.get(f"/payments/card/{opened.pk}/return/").content.decode()
    assert shown in text
    assert "/payments/card/?return_to=balance&amp;amount=75.00" in text
    assert "hx-get" not in text


def test_cancel_page_cancels_an_open_payment_and_expires_its_session(client, opened, fake_stripe):
    response = client.get(f"/payments/card/{opened.pk}/canceled/")
    assert "Payment canceled, nothing charged" in response.content.decode()
    opened.refresh_from_db()
    assert opened.status == Status.CANCELED
    assert fake_stripe.sessions[opened.session_id]["status"] == "expired"
    assert not Balance.objects.filter(account=opened.account, amount__gt=0).exists()


def test_cancel_page_leaves_a_paid_payment_paid(client, opened, fake_stripe):
    paid(fake_stripe, opened)
    response = client.get(f"/payments/card/{opened.pk}/canceled/")
    assert response.status_code == 302
    assert response["Location"] == f"/payments/card/{opened.pk}/return/"
    opened.refresh_from_db()
    assert opened.status == Status.PAID


@pytest.mark.parametrize("page", ["return", "status", "canceled"])
def test_another_accounts_payment_is_not_found(client, opened, stranger, page):
    client.force_login(stranger)
    assert client.get(f"/payments/card/{opened.pk}/{page}/").status_code == 404
    opened.refresh_from_db()
    assert opened.status == Status.OPEN


# --- checkout -----------------------------------------------------------------------------------


@pytest.fixture
def in_cart(buyer):
    did = DIDFactory()
    cart_add_numbers(user=buyer, numbers=[did.number])
    return did


def test_checkout_offers_the_shortfall_by_card(client, buyer, in_cart):
    text = client.get(reverse("cart:checkout")).content.decode()
    assert "Pay the shortfall by card" in text
    assert "/payments/card/?return_to=checkout&amp;amount=50.00" in text


def test_checkout_without_keys_looks_as_before(client, buyer, in_cart, settings):
    settings.STRIPE_SECRET_KEY = ""
    text = client.get(reverse("cart:checkout")).content.decode()
    assert "by card" not in text
    assert "Top up your balance" in text


@pytest.mark.parametrize(
    ("balance", "preset"),
    [
        (None, "50.00"),  # MIN_PURCHASE_BALANCE 50 needed, first top-up minimum 50
        ("30.50", "20.00"),  # 19.50 short, rounded up to a whole unit
        ("49.60", "1.00"),  # 0.40 short: a top-up is at least 1.00
    ],
)
def test_the_shortfall_preset_is_recomputed_on_the_server(client, buyer, in_cart, balance, preset):
    if balance:
        fund(buyer.account, balance)
    # The browser's amount is a suggestion at most: the shortfall is the server's.
    text = client.get(TOPUP, {"return_to": "checkout", "amount": "1"}).content.decode()
    assert f'name="preset" value="{preset}"' in text
    assert "(the shortfall)" in text
    assert f'name="amount" value="{preset}"' in text


@pytest.mark.parametrize(
    "query", ["return_to=%00", "return_to=elsewhere", "amount=abc", "amount=1e999999999"]
)
def test_odd_query_strings_fall_back(client, buyer, query):
    assert client.get(f"{TOPUP}?{query}").status_code == 200


def test_paying_for_checkout_extends_the_carts_holds_once(client, buyer, in_cart):
    before = DID.objects.get(pk=in_cart.pk).cart_held_until
    response = post(client, amount="50", return_to="checkout")
    assert response.status_code == 303
    payment = CardPayment.objects.get()
    until = payment.created_at + timedelta(minutes=30)
    held = DID.objects.get(pk=in_cart.pk)
    assert held.cart_held_until == until > before
    # A second payment a little later holds them no longer.
    CardPayment.objects.filter(pk=payment.pk).update(
        created_at=payment.created_at - timedelta(minutes=10)
    )
    post(client, amount="50", return_to="checkout")
    second = CardPayment.objects.latest("pk")
    assert card.card_hold_until(second) == payment.created_at + timedelta(minutes=20)
    # Payments started every 25 minutes cannot keep the numbers held: the first one of the
    # day bounds them all.
    CardPayment.objects.filter(pk=payment.pk).update(
        created_at=payment.created_at - timedelta(hours=5)
    )
    CardPayment.objects.filter(pk=second.pk).update(
        created_at=payment.created_at - timedelta(minutes=25)
    )
    post(client, amount="50", return_to="checkout")
    third = CardPayment.objects.latest("pk")
    assert card.card_hold_until(third) == payment.created_at - timedelta(hours=5, minutes=-30)
    assert card.card_hold_until(third) < third.created_at  # so nothing is extended
    assert DID.objects.get(pk=in_cart.pk).cart_held_until == until


def test_hold_extension_takes_no_hold_anew_and_never_shortens(buyer, in_cart):
    now = timezone.now()
    DID.objects.filter(pk=in_cart.pk).update(cart_held_until=now - timedelta(seconds=1))
    assert cart_holds_extend(user=buyer, until=now + timedelta(minutes=30)) == set()
    assert DID.objects.get(pk=in_cart.pk).cart_held_until < now
    later = now + timedelta(hours=2)
    DID.objects.filter(pk=in_cart.pk).update(cart_held_until=later)
    assert cart_holds_extend(user=buyer, until=now + timedelta(minutes=30)) == {in_cart.pk}
    assert DID.objects.get(pk=in_cart.pk).cart_held_until == later


# --- the balance page ---------------------------------------------------------------------------


def test_balance_page_lists_card_payments_with_their_status(client, buyer, fake_stripe):
    for _ in range(3):
        post(client, amount="60")
    first, second, third = CardPayment.objects.order_by("pk")
    paid(fake_stripe, first)
    card.card_payment_close(payment_id=second.pk, status=Status.FAILED, message="Card expired.")
    text = client.get(reverse("billing:balance")).content.decode()
    assert 'id="pay-by-card"' in text and "Pay by card" in text
    section = text.split('id="card-payments"')[1]
    for payment, status in ((first, "Paid"), (second, "Failed"), (third, "Awaiting payment")):
        assert payment.reference in section
        assert status in section
    assert "Card expired." in section


def test_balance_page_without_card_payments_has_no_list(client, buyer):
    text = client.get(reverse("billing:balance")).content.decode()
    assert "Pay by card" in text
    assert 'id="card-payments"' not in text


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_opens_one_payment(fake_stripe, customer_admin):
    """Two posts of one form at the same moment (a double click): the second waits for the
    first's payment and is sent to the same payment page."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    token = str(uuid.uuid4())

    def submit(_):
        client = Client()
        client.force_login(customer_admin)
        try:
            return post(client, amount="75", token=token)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(submit, range(2))
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert CardPayment.objects.count() == 1
    assert len(session_requests(fake_stripe)) == 1
