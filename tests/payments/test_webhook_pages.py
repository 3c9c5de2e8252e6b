"""Finance pages on card money: payments with their webhook log, the whole log, and
balance claims to settle; each seller sees only what it collected."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import BalanceClaim, CardPayment
from payments.services import card
from tests.factories import AccountFactory
from tests.payments.webhook_helpers import open_paid, reseller_with_keys, send

pytestmark = pytest.mark.postgres


def _open(account, amount="60.00"):
    return card.card_payment_open(account=account, amount=Decimal(amount), job="test")


@pytest.fixture
def platform_paid(fake_stripe, customer_admin):
    payment, session = open_paid(fake_stripe, customer_admin)
    assert send(fake_stripe, "checkout.session.completed", session).status_code == 200
    send(fake_stripe, "checkout.session.completed", session, secret="whsec_forged")
    payment.refresh_from_db()
    return payment


@pytest.fixture
def resellers(fake_stripe):
    """A reseller with its own keys and a paid payment of its customer."""
    reseller, admin, buyer, url = reseller_with_keys(fake_stripe)
    payment, session = open_paid(fake_stripe, buyer)
    return reseller, admin, payment


def _listed(response):
    return list(response.context["page"].object_list)


def test_platform_finance_sees_platform_payments_only(
    client, finance_user, platform_paid, resellers
):
    _, _, theirs = resellers
    client.force_login(finance_user)
    response = client.get(reverse("payments:card_payments"))
    assert response.status_code == 200
    assert _listed(response) == [platform_paid]
    assert platform_paid.reference in response.content.decode()
    url = reverse("payments:card_payment", args=[theirs.pk])
    assert client.get(url).status_code == 404


def test_reseller_sees_its_own_collections_only(client, platform_paid, resellers):
    _, admin, theirs = resellers
    client.force_login(admin)
    assert _listed(client.get(reverse("payments:card_payments"))) == [theirs]
    assert client.get(reverse("payments:card_payment", args=[theirs.pk])).status_code == 200
    url = reverse("payments:card_payment", args=[platform_paid.pk])
    assert client.get(url).status_code == 404
    assert _listed(client.get(reverse("payments:webhook_events"))) == []


@pytest.mark.parametrize("name", ["card_payments", "webhook_events", "balance_claims"])
def test_customers_and_support_may_not(client, customer_admin, reseller, name):
    from tests.factories import UserFactory  # noqa: PLC0415

    support = UserFactory(account=reseller, role="reseller_support")
    for user in (customer_admin, support):
        client.force_login(user)
        assert client.get(reverse(f"payments:{name}")).status_code == 403


def test_payment_filters(client, finance_user, fake_stripe, customer, stranger):
    old = _open(customer)
    CardPayment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    expired = _open(stranger.account)
    card.card_payment_close(payment_id=expired.pk, status=CardPayment.Status.EXPIRED)
    client.force_login(finance_user)
    url = reverse("payments:card_payments")
    assert _listed(client.get(url, {"status": "expired"})) == [expired]
    assert _listed(client.get(url, {"q": "stranger"})) == [expired]
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert _listed(client.get(url, {"date_from": since})) == [expired]
    assert _listed(client.get(url, {"date_to": since})) == [old]
    # Odd query strings are ignored, never an error.
    for query in (
        {"status": "bogus"},
        {"date_from": "yesterday"},
        {"q": "\x00"},
        {"page": "x"},
        {"page": "999"},
    ):
        assert client.get(url, query).status_code == 200
    response = client.get(url, {"q": "nobody like this"})
    assert "No card payment matches" in response.content.decode()


def test_payment_list_queries_do_not_grow(
    client, finance_user, fake_stripe, django_assert_max_num_queries
):
    for _ in range(30):
        _open(AccountFactory())
    client.force_login(finance_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("payments:card_payments"))
    assert len(_listed(response)) == 25


def test_payment_detail_shows_its_event_log(client, finance_user, platform_paid):
    client.force_login(finance_user)
    response = client.get(reverse("payments:card_payment", args=[platform_paid.pk]))
    body = response.content.decode()
    events = list(response.context["events"])
    assert [e.outcome for e in events] == ["applied"]
    assert "checkout.session.completed" in body and "credited 60.00 USD" in body


def test_webhook_log_filters_and_highlights_refused(client, finance_user, platform_paid):
    client.force_login(finance_user)
    url = reverse("payments:webhook_events")
    everything = _listed(client.get(url))
    assert [e.outcome for e in everything] == ["refused", "applied"]
    response = client.get(url, {"outcome": "refused"})
    assert [e.outcome for e in _listed(response)] == ["refused"]
    assert 'list-group-item-danger" data-outcome="refused"' in response.content.decode()
    assert client.get(url, {"outcome": "nonsense"}).status_code == 200
    assert "No call with this outcome" in client.get(url, {"outcome": "ignored"}).content.decode()


@pytest.fixture
def claim(platform_paid):
    return BalanceClaim.objects.create(
        account=platform_paid.account,
        amount=Decimal("12.50"),
        payment=platform_paid,
        reason="Card payment refunded",
        key="refund:ch_1:6000",
    )


def test_settle_a_claim_needs_a_note(client, finance_user, claim):
    client.force_login(finance_user)
    assert _listed(client.get(reverse("payments:balance_claims"))) == [claim]
    url = reverse("payments:balance_claim", args=[claim.pk])
    page = client.get(url).content.decode()
    assert "data-confirm" in page and "Mark settled" in page

    response = client.post(url, {"note": "   "})
    assert response.status_code == 200
    assert "Say how the claim was settled" in response.content.decode()
    claim.refresh_from_db()
    assert claim.settled_at is None

    response = client.post(url, {"note": "Paid by bank transfer, ref 881"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.settled_by == finance_user and claim.settlement_note.startswith("Paid by")
    assert _listed(client.get(reverse("payments:balance_claims"))) == []
    settled = client.get(reverse("payments:balance_claims"), {"state": "settled"})
    assert _listed(settled) == [claim]

    # Twice (another tab): refused with when and by whom.
    response = client.post(url, {"note": "again"})
    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.settlement_note.startswith("Paid by")


def test_another_sellers_claim_is_404(client, claim, resellers):
    _, admin, _ = resellers
    client.force_login(admin)
    url = reverse("payments:balance_claim", args=[claim.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "mine now"}).status_code == 404
    claim.refresh_from_db()
    assert claim.settled_at is None


def test_empty_states(client, finance_user):
    client.force_login(finance_user)
    assert "No card payments yet" in client.get(reverse("payments:card_payments")).content.decode()
    assert "No webhook calls" in client.get(reverse("payments:webhook_events")).content.decode()
    assert "No open claims" in client.get(reverse("payments:balance_claims")).content.decode()


def test_finance_navigation_links_card_payments(client, finance_user):
    client.force_login(finance_user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("payments:card_payments") in page
