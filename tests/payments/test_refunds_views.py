"""Payout pages: the customer's request, the queue, paying, declining and starting, with
odd input that must never 500 nor move money."""

from decimal import Decimal

import pytest

from billing.models import Balance, LedgerEntry
from payments.models import Payout
from payments.services import refunds
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.refunds_helpers import paid_card, refund_requests

pytestmark = pytest.mark.postgres
D = Decimal
ASK = "/payments/payouts/ask/"
ODD_AMOUNTS = [
    "",
    "abc",
    "-5",
    "0",
    "1e9",
    "12.345",
    "NaN",
    "Infinity",
    "1\x00",
    " ",
    "9" * 40,
]


def pay_url(payout):
    return f"/payments/payouts/{payout.pk}/pay/"


def test_customer_asks_from_the_balance_page(client, customer_admin):
    account = customer_admin.account
    fund(account, "80.00")
    client.force_login(customer_admin)
    page = client.get("/billing/balance/").content.decode()
    assert 'id="payouts"' in page and ASK in page
    assert client.get(ASK).status_code == 200
    for amount in ODD_AMOUNTS:
        response = client.post(ASK, {"amount": amount, "note": "x"})
        assert response.status_code == 200, amount
        assert "amount" in response.context["form"].errors, amount
    response = client.post(ASK, {"amount": "80.01"})
    assert "The balance of" in response.content.decode()
    assert not Payout.objects.exists()
    response = client.post(ASK, {"amount": "30.5", "note": "IBAN DE89 3704 <b>"})
    assert response.status_code == 302 and response["Location"].endswith(
        "/billing/balance/#payouts"
    )
    payout = Payout.objects.get()
    assert (payout.amount, payout.customer_note) == (D("30.50"), "IBAN DE89 3704 <b>")
    page = client.get("/billing/balance/").content.decode()
    assert "30.50 USD" in page and ASK not in page  # one open request: no second button
    page = client.get(ASK).content.decode()
    assert 'id="open-payout"' in page and "<form" not in page.split('id="open-payout"')[1]
    response = client.post(ASK, {"amount": "1"})
    assert Payout.objects.count() == 1


def test_members_who_may_not_buy_cannot_ask(client, customer, customer_member):
    fund(customer, "10.00")
    client.force_login(customer_member)
    assert client.get(ASK).status_code == 403
    assert client.post(ASK, {"amount": "5"}).status_code == 403
    page = client.get("/billing/balance/").content.decode()
    assert ASK not in page


def test_queue_is_scoped(client, customer_admin, finance_user):
    root = platform()
    fund(customer_admin.account, "20.00")
    direct = refunds.payout_request(user=customer_admin, amount="5")
    reseller_a = AccountFactory(kind="reseller", parent=root, name="Reseller A")
    resold = AccountFactory(kind="customer", parent=reseller_a, name="Resold Ltd")
    fund(resold, "20.00")
    theirs = refunds.payout_request(
        user=UserFactory(account=resold, role="customer_admin"), amount="7"
    )
    a_finance = UserFactory(account=reseller_a, role="reseller_finance")
    b_finance = UserFactory(account=AccountFactory(kind="reseller"), role="reseller_finance")

    def listed(user, query=""):
        client.force_login(user)
        response = client.get(f"/payments/payouts/{query}")
        assert response.status_code == 200
        return {payout.pk for payout in response.context["page"].object_list}

    assert listed(finance_user) == {direct.pk}
    assert listed(a_finance) == {theirs.pk}
    assert listed(b_finance) == set()
    assert listed(finance_user, "?status=paid") == set()
    for odd in ("?status=bogus", "?status=%00", "?page=-1", "?page=x&status=all"):
        assert listed(finance_user, odd) == {direct.pk}
    client.force_login(customer_admin)
    assert client.get("/payments/payouts/").status_code == 403
    # A payout page is another seller's 404.
    client.force_login(b_finance)
    assert client.get(f"/payments/payouts/{theirs.pk}/").status_code == 404
    assert client.post(pay_url(theirs), {"method": "bank_transfer"}).status_code == 404
    client.force_login(a_finance)
    assert client.get(f"/payments/payouts/{theirs.pk}/").status_code == 200
    assert client.get(f"/payments/payouts/{direct.pk}/").status_code == 404


def test_pay_by_bank_through_the_page(client, customer_admin, finance_user):
    account = customer_admin.account
    fund(account, "60.00")
    payout = refunds.payout_request(user=customer_admin, amount="60", note="NL91ABNA0417164300")
    client.force_login(finance_user)
    page = client.get(f"/payments/payouts/{payout.pk}/").content.decode()
    assert "NL91ABNA0417164300" in page and 'id="pay-form"' in page
    odd = [
        {},
        {"method": "bogus", "amount": "10"},
        {"method": "bank_transfer", "amount": "10"},  # no reference
        {"method": "bank_transfer", "amount": "10", "bank_reference": "   "},
        {"method": "bank_transfer", "amount": "x", "bank_reference": "R"},
        {"method": "bank_transfer", "amount": "60.01", "bank_reference": "R"},
        {"method": "bank_transfer", "amount": "10", "bank_reference": "R" * 101},
        {"method": "card", "amount": "10"},  # no card payments
    ]
    for data in odd:
        response = client.post(pay_url(payout), data)
        assert response.status_code == 200, data
        assert response.context["pay_form"].errors, data
    assert not LedgerEntry.objects.filter(kind="payout").exists()
    data = {"method": "bank_transfer", "amount": "60", "bank_reference": "SEPA-1"}
    response = client.post(pay_url(payout), data, follow=True)
    assert response.redirect_chain[-1][0] == f"/payments/payouts/{payout.pk}/"
    assert "Paid back 60.00 USD by bank transfer" in response.content.decode()
    again = client.post(pay_url(payout), data, follow=True)  # a double click
    assert "paid already" in again.content.decode()
    assert Balance.objects.get(account=account).amount == D("0.00")
    assert LedgerEntry.objects.filter(kind="payout").count() == 1


def test_pay_to_card_through_the_page(client, fake_stripe, customer_admin, finance_user):
    payment = paid_card(fake_stripe, customer_admin, "50.00")
    payout = refunds.payout_request(user=customer_admin, amount="50")
    client.force_login(finance_user)
    page = client.get(f"/payments/payouts/{payout.pk}/")
    assert page.context["pay_form"].initial["method"] == "card"
    fake_stripe.fail_refund_next("Charge is disputed.")
    response = client.post(pay_url(payout), {"method": "card", "amount": "50"})
    assert response.status_code == 200
    assert "Nothing was paid out or debited" in response.content.decode()
    assert "Charge is disputed." in response.content.decode()
    payout.refresh_from_db()
    assert payout.status == "requested"
    # Stripe keeps its answer for that key; finance pays the rest another way, or a new payout.
    refunds.payout_decline(actor=finance_user, payout_id=payout.pk, note="Retrying")
    payout = refunds.payout_request(user=customer_admin, amount="50")
    response = client.post(pay_url(payout), {"method": "card", "amount": "50"}, follow=True)
    assert "Paid back 50.00 USD to the card" in response.content.decode()
    payment.refresh_from_db()
    assert payment.refunded_amount == D("50.00")
    assert len(refund_requests(fake_stripe)) == 2


def test_a_split_payout_shows_its_parts(client, fake_stripe, customer_admin, finance_user):
    older = paid_card(fake_stripe, customer_admin, "60.00")
    paid_card(fake_stripe, customer_admin, "40.00")
    payout = refunds.payout_request(user=customer_admin, amount="70")
    client.force_login(finance_user)
    response = client.post(pay_url(payout), {"method": "card", "amount": "70"}, follow=True)
    page = response.content.decode()
    assert "Paid back 70.00 USD to 2 card payments" in page
    assert "paid in 2 parts" in page and f"30.00 USD to {older.reference}" in page
    other = Payout.objects.exclude(pk=payout.pk).get()
    assert f"/payments/payouts/{other.pk}/" in page


def test_decline_through_the_page(client, customer_admin, finance_user):
    fund(customer_admin.account, "20.00")
    payout = refunds.payout_request(user=customer_admin, amount="20")
    client.force_login(finance_user)
    url = f"/payments/payouts/{payout.pk}/decline/"
    for note in ("", "   ", "x" * 501):
        response = client.post(url, {"note": note})
        assert response.status_code == 200
        assert response.context["decline_form"].errors
    response = client.post(url, {"note": "Promotional credit"}, follow=True)
    assert "Payout declined" in response.content.decode()
    payout.refresh_from_db()
    assert payout.status == "declined"
    assert client.post(url, {"note": "again"}).context["decline_form"].errors
    client.force_login(customer_admin)
    assert "Promotional credit" in client.get("/billing/balance/").content.decode()
    assert client.get(f"/payments/payouts/{payout.pk}/").status_code == 403


def test_finance_starts_a_payout(client, customer_admin, finance_user):
    account = customer_admin.account
    fund(account, "35.00")
    url = f"/payments/balances/{account.pk}/payout/"
    client.force_login(finance_user)
    assert url in client.get(f"/billing/balances/{account.pk}/").content.decode()
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["amount"] == D("35.00")
    for data in ({}, {"method": "bank_transfer", "amount": "36", "bank_reference": "R"}):
        assert client.post(url, data).status_code == 200
    assert not Payout.objects.exists()
    response = client.post(url, {"method": "card", "amount": "10"})
    assert "Only 0.00 USD of card payments" in response.content.decode()
    assert not Payout.objects.exists()  # a refused start leaves nothing behind
    response = client.post(url, {"method": "bank_transfer", "amount": "35", "bank_reference": "R"})
    assert response.status_code == 302
    assert Payout.objects.get().status == "paid"
    assert Balance.objects.get(account=account).amount == D("0.00")


def test_reseller_pays_out_its_customer(client, db):
    root = platform()
    reseller = AccountFactory(kind="reseller", parent=root)
    resold = AccountFactory(kind="customer", parent=reseller)
    fund(resold, "15.00")
    admin = UserFactory(account=reseller, role="reseller_admin")
    client.force_login(admin)
    page = client.get(f"/reseller/customers/{resold.pk}/statement/").content.decode()
    url = f"/payments/balances/{resold.pk}/payout/"
    assert url in page
    data = {"method": "bank_transfer", "amount": "15", "bank_reference": "R-1"}
    assert client.post(url, data).status_code == 302
    assert LedgerEntry.objects.get(account=resold, kind="payout").created_by == admin
    # The platform does not pay out a reseller's customer.
    client.force_login(UserFactory(account=root, role="platform_finance"))
    assert client.get(url).status_code == 403


def test_queue_query_count_is_flat(client, finance_user, django_assert_max_num_queries):
    root = platform()

    def request_one():
        account = AccountFactory(kind="customer", parent=root)
        fund(account, "9.00")
        refunds.payout_request(user=UserFactory(account=account, role="customer_admin"), amount="4")

    request_one()
    client.force_login(finance_user)
    with django_assert_max_num_queries(20) as few:
        assert client.get("/payments/payouts/").status_code == 200
    for _ in range(6):
        request_one()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/payments/payouts/").context["page"].object_list) == 7


def test_customer_withdraws_an_open_request(client, customer_admin, stranger):
    fund(customer_admin.account, "40.00")
    payout = refunds.payout_request(user=customer_admin, amount="25")
    url = f"/payments/payouts/{payout.pk}/withdraw/"
    client.force_login(stranger)
    assert client.post(url).status_code == 404  # another account's request
    client.force_login(customer_admin)
    assert 'id="payout-withdraw"' in client.get("/billing/balance/").content.decode()
    assert client.get(url).status_code == 405
    page = client.post(url, follow=True).content.decode()
    assert "withdrawn" in page
    payout.refresh_from_db()
    assert (payout.status, payout.decided_by) == ("withdrawn", customer_admin)
    assert Balance.objects.get(account=customer_admin.account).amount == D("40.00")
    again = client.post(url, follow=True).content.decode()
    assert "withdrawn already: nothing changed" in again
    # A new request may be made now: the one open request was withdrawn.
    assert refunds.payout_request(user=customer_admin, amount="10").status == "requested"
